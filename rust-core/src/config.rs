//! A client's configuration: where the service is and how to reach it.

use std::net::IpAddr;
use std::time::Duration;

use serde::Deserialize;
use url::{Host, Url};

use crate::auth::Secret;
use crate::error::{Error, ErrorKind, Result};

/// The public licensing service.
pub const DEFAULT_SERVICE_URI: &str = "https://licensing.m365.microsoft.com";

/// A validated client configuration.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The service's base URI, without a trailing slash.
    pub service_uri: Url,
    /// A bearer token obtained elsewhere, if the connection has one.
    pub access_token: Option<Secret>,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// How long one HTTP request may take in all.
    pub request_timeout: Duration,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawConfig {
    service_uri: Option<String>,
    access_token: Option<String>,
    user_agent: Option<String>,
    timeout_seconds: Option<f64>,
}

impl ClientConfig {
    /// Parses and validates the JSON configuration of `mc_client_new` (see `docs/abi.md`).
    pub fn from_json(json: &str) -> Result<Self> {
        let raw: RawConfig = serde_json::from_str(json).map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("The client configuration is not valid JSON of the expected shape: {e}"),
            )
        })?;
        let service_uri =
            parse_service_uri(raw.service_uri.as_deref().unwrap_or(DEFAULT_SERVICE_URI))?;
        Ok(ClientConfig {
            service_uri,
            access_token: raw.access_token.and_then(Secret::new),
            user_agent: raw
                .user_agent
                .unwrap_or_else(|| format!("MSCommerce/{}", env!("CARGO_PKG_VERSION"))),
            request_timeout: seconds(raw.timeout_seconds, 100.0, "timeoutSeconds")?,
        })
    }
}

fn seconds(value: Option<f64>, default: f64, name: &str) -> Result<Duration> {
    let value = value.unwrap_or(default);
    if !(value.is_finite() && value > 0.0 && value <= 3600.0) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{name} must be a number of seconds above 0 and at most 3600."),
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

/// Validates a service URI: `https`, or `http` only to a loopback host, with no query, fragment
/// or credentials. A trailing slash is dropped.
pub fn parse_service_uri(text: &str) -> Result<Url> {
    parse_endpoint_uri(text, "service URI")
}

/// Validates the URI of a service or authority (`what` names it in errors), as
/// [`parse_service_uri`] describes.
pub fn parse_endpoint_uri(text: &str, what: &str) -> Result<Url> {
    let invalid = |why: &str| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("The {what} '{text}' is not valid: {why}"),
        )
        .with_target(Some(text))
    };
    let mut url = Url::parse(text.trim()).map_err(|e| invalid(&e.to_string()))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or a fragment."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it must not hold credentials."));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url.host()) => {}
        "http" => {
            return Err(invalid(
                "plain http is allowed only to a loopback host (localhost, 127.0.0.1, [::1]); use https.",
            ))
        }
        _ => return Err(invalid("the scheme must be https.")),
    }
    if url.host().is_none() {
        return Err(invalid("it has no host."));
    }
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    Ok(url)
}

fn is_loopback(host: Option<Host<&str>>) -> bool {
    match host {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
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
            config.service_uri.host_str(),
            Some("licensing.m365.microsoft.com")
        );
        assert!(config.access_token.is_none());
    }

    #[test]
    fn config_with_unknown_field_is_refused() {
        let err = ClientConfig::from_json(r#"{"serviceUrl":"https://x"}"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    }
}
