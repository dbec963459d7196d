//! A client's configuration: where the service is, how to reach it, and how long and how often
//! to try (see `docs/abi.md` and `docs/reliability.md`), with the caller's environment variables
//! and PowerShell edition (see [`crate::settings`]).

use std::time::Duration;

pub use crate::environment::parse_service_uri;
use crate::environment::{Choices, Endpoints};
use crate::error::{Error, ErrorKind, Result};
use crate::http::retry::{
    RetryPolicy, DEFAULT_BASE_DELAY_SECONDS, DEFAULT_BUDGET_SECONDS, DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_DELAY_SECONDS,
};
use crate::protocol::RawConfig;
use crate::secret::Secret;
use crate::settings::{Edition, Variables};

/// A validated client configuration.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// What the caller chose of the endpoints; a client that holds no connection resolves its
    /// endpoints from these again when the variables change.
    pub(crate) choices: Choices,
    /// The endpoints the choices and [`ClientConfig::variables`] gave when the configuration
    /// was read.
    pub(crate) endpoints: Endpoints,
    /// The environment variables as the caller saw them (`variables`); a request that carries
    /// its own replaces them.
    pub(crate) variables: Variables,
    /// The PowerShell edition of the caller (`edition`), for the wording of HTTP failures.
    pub(crate) edition: Edition,
    /// A bearer token obtained elsewhere, if the connection has one.
    pub(crate) access_token: Option<Secret>,
    /// The `User-Agent` header.
    pub(crate) user_agent: String,
    /// How long one attempt of an HTTP request may take in all (connecting, sending, reading).
    pub request_timeout: Duration,
    /// How often and for how long a request is retried.
    pub retry: RetryPolicy,
}

/// The default `timeoutSeconds`: .NET's `HttpClient` default, which the original's web calls had.
pub(crate) const DEFAULT_TIMEOUT_SECONDS: f64 = 100.0;

/// The most attempts `maxAttempts` may ask for.
pub(crate) const MAX_ATTEMPTS_LIMIT: u32 = 10;

impl ClientConfig {
    /// Parses and validates the JSON configuration of `mc_client_new` (see `docs/abi.md`).
    pub fn from_json(json: &str) -> Result<Self> {
        let raw: RawConfig = serde_json::from_str(json).map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("The client configuration is not valid JSON of the expected shape: {e}"),
            )
        })?;
        let choices = Choices {
            environment: raw.environment.clone(),
            service_uri: raw.service_uri.clone(),
            authority_uri: raw.authority_uri.clone(),
        };
        let variables = raw.variables.clone().unwrap_or_default();
        let endpoints = choices.resolve(&variables)?;
        let edition = raw
            .edition
            .as_deref()
            .map(Edition::parse)
            .transpose()?
            .unwrap_or_default();
        let retry = retry_policy(&raw)?;
        Ok(ClientConfig {
            choices,
            endpoints,
            variables,
            edition,
            access_token: raw.access_token.and_then(Secret::new),
            user_agent: raw
                .user_agent
                .unwrap_or_else(|| format!("MSCommerce/{}", env!("CARGO_PKG_VERSION"))),
            request_timeout: seconds(
                raw.timeout_seconds,
                DEFAULT_TIMEOUT_SECONDS,
                3600.0,
                "timeoutSeconds",
            )?,
            retry,
        })
    }
}

fn retry_policy(raw: &RawConfig) -> Result<RetryPolicy> {
    let max_attempts = match raw.max_attempts {
        None => DEFAULT_MAX_ATTEMPTS,
        Some(n) if n.fract() == 0.0 && (1.0..=f64::from(MAX_ATTEMPTS_LIMIT)).contains(&n) => {
            // Whole and within 1..=10: the cast is exact.
            n as u32
        }
        Some(_) => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                "maxAttempts must be a whole number from 1 (no retries) to {MAX_ATTEMPTS_LIMIT}."
            ),
            ))
        }
    };
    let policy = RetryPolicy {
        max_attempts,
        budget: seconds(
            raw.retry_budget_seconds,
            DEFAULT_BUDGET_SECONDS,
            3600.0,
            "retryBudgetSeconds",
        )?,
        base_delay: seconds(
            raw.retry_base_delay_seconds,
            DEFAULT_BASE_DELAY_SECONDS,
            60.0,
            "retryBaseDelaySeconds",
        )?,
        max_delay: seconds(
            raw.retry_max_delay_seconds,
            DEFAULT_MAX_DELAY_SECONDS,
            600.0,
            "retryMaxDelaySeconds",
        )?,
    };
    if policy.max_delay < policy.base_delay {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "retryMaxDelaySeconds must not be less than retryBaseDelaySeconds.",
        ));
    }
    Ok(policy)
}

/// A number of seconds above 0 and at most `max`, or `default` when absent.
fn seconds(value: Option<f64>, default: f64, max: f64, name: &str) -> Result<Duration> {
    let value = value.unwrap_or(default);
    // Checked before converting: Duration::from_secs_f64 panics on negative or huge values.
    // A positive value below a nanosecond would become a zero Duration, which means "no time".
    if !(value.is_finite() && value >= 1e-9 && value <= max) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{name} must be a number of seconds above 0 and at most {max}."),
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_service_uri_is_accepted_and_trailing_slash_dropped() {
        let url = parse_service_uri("https://licensing.m365.microsoft.com/").unwrap();
        assert_eq!(url.as_str(), "https://licensing.m365.microsoft.com/");
        assert_eq!(url.path(), "/");
    }

    #[test]
    fn plain_http_is_accepted_for_loopback_hosts() {
        for uri in [
            "http://127.0.0.1:5000",
            "http://localhost:1",
            "http://[::1]:80",
            "http://127.1.2.3",
        ] {
            assert!(parse_service_uri(uri).is_ok(), "{uri}");
        }
    }

    #[test]
    fn plain_http_is_refused_for_other_hosts() {
        for uri in [
            "http://example.com",
            "http://10.0.0.1",
            "http://localhost.example.com",
        ] {
            let err = parse_service_uri(uri).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{uri}");
        }
    }

    #[test]
    fn other_schemes_queries_and_credentials_are_refused() {
        for uri in [
            "ftp://localhost",
            "https://a/?x=1",
            "https://u:p@host",
            "not a uri",
        ] {
            assert!(parse_service_uri(uri).is_err(), "{uri}");
        }
    }

    #[test]
    fn config_defaults_to_the_public_service() {
        let config = ClientConfig::from_json("{}").unwrap();
        assert_eq!(
            config.endpoints.service_uri.host_str(),
            Some("licensing.m365.microsoft.com")
        );
        assert!(config.access_token.is_none());
        assert_eq!(config.edition, Edition::Desktop);
        assert!(config.variables.is_empty());
    }

    #[test]
    fn config_variables_choose_the_service_and_edition_the_wording() {
        let config = ClientConfig::from_json(
            r#"{"edition":"Core","variables":{"MSCOMMERCE_SERVICE_URI":"http://127.0.0.1:5000",
                "MSCOMMERCE_AUTHORITY_URI":"http://127.0.0.1:5001"}}"#,
        )
        .unwrap();
        assert_eq!(
            config.endpoints.service_uri.as_str(),
            "http://127.0.0.1:5000/"
        );
        assert_eq!(
            config.endpoints.authority_uri.as_str(),
            "http://127.0.0.1:5001/"
        );
        assert_eq!(config.edition, Edition::Core);
        let err = ClientConfig::from_json(r#"{"edition":"Preview"}"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    }

    #[test]
    fn a_refused_uri_never_repeats_its_credentials() {
        let err = parse_service_uri("https://admin:hunter2@licensing.example").unwrap_err();
        assert!(!err.message().contains("hunter2"), "{}", err.message());
        assert!(!err.target().unwrap_or_default().contains("hunter2"));
        assert!(err.message().contains("https://***@licensing.example"));
    }

    #[test]
    fn config_defaults_to_four_attempts_within_two_minutes() {
        let config = ClientConfig::from_json("{}").unwrap();
        assert_eq!(config.request_timeout, Duration::from_secs(100));
        assert_eq!(
            config.retry,
            RetryPolicy {
                max_attempts: 4,
                budget: Duration::from_secs(120),
                base_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(30),
            }
        );
    }

    #[test]
    fn config_takes_retry_settings_and_fractional_seconds() {
        let config = ClientConfig::from_json(
            r#"{"timeoutSeconds":0.5,"maxAttempts":1,"retryBudgetSeconds":2.5,
                "retryBaseDelaySeconds":0.01,"retryMaxDelaySeconds":0.05}"#,
        )
        .unwrap();
        assert_eq!(config.request_timeout, Duration::from_millis(500));
        assert_eq!(config.retry.max_attempts, 1);
        assert_eq!(config.retry.budget, Duration::from_millis(2500));
        assert_eq!(config.retry.base_delay, Duration::from_millis(10));
        assert_eq!(config.retry.max_delay, Duration::from_millis(50));
    }

    #[test]
    fn out_of_range_timeouts_and_retry_settings_are_invalid_arguments_naming_the_field() {
        for (json, field) in [
            (r#"{"timeoutSeconds":0}"#, "timeoutSeconds"),
            (r#"{"timeoutSeconds":-1}"#, "timeoutSeconds"),
            (r#"{"timeoutSeconds":1e-145}"#, "timeoutSeconds"),
            (r#"{"timeoutSeconds":3600.5}"#, "timeoutSeconds"),
            (r#"{"timeoutSeconds":1e308}"#, "timeoutSeconds"),
            (r#"{"maxAttempts":0}"#, "maxAttempts"),
            (r#"{"maxAttempts":11}"#, "maxAttempts"),
            (r#"{"maxAttempts":2.5}"#, "maxAttempts"),
            (r#"{"maxAttempts":-3}"#, "maxAttempts"),
            (r#"{"retryBudgetSeconds":0}"#, "retryBudgetSeconds"),
            (r#"{"retryBudgetSeconds":86400}"#, "retryBudgetSeconds"),
            (r#"{"retryBaseDelaySeconds":0}"#, "retryBaseDelaySeconds"),
            (r#"{"retryBaseDelaySeconds":61}"#, "retryBaseDelaySeconds"),
            (r#"{"retryMaxDelaySeconds":601}"#, "retryMaxDelaySeconds"),
            (
                r#"{"retryBaseDelaySeconds":2,"retryMaxDelaySeconds":1}"#,
                "retryMaxDelaySeconds",
            ),
        ] {
            let err = ClientConfig::from_json(json).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{json}");
            assert!(err.message().contains(field), "{json}: {}", err.message());
        }
    }

    #[test]
    fn a_setting_of_the_wrong_type_is_an_invalid_argument() {
        let err = ClientConfig::from_json(r#"{"maxAttempts":"3"}"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    }

    #[test]
    fn a_per_client_connect_timeout_is_refused_as_unknown() {
        // The connection pool and its connect timeout are shared by the whole process.
        let err = ClientConfig::from_json(r#"{"connectTimeoutSeconds":5}"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.message().contains("connectTimeoutSeconds"));
    }

    #[test]
    fn config_with_unknown_field_is_refused() {
        let err = ClientConfig::from_json(r#"{"serviceUrl":"https://x"}"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    }
}
