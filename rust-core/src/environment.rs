//! Clouds: the built-in endpoints of each environment, and how `-ServiceUri`, `-AuthorityUri`
//! and the environment variables override them.
//!
//! Precedence, for each endpoint: the explicit URI; else the named environment's endpoint when
//! an environment is named; else the environment variable (`MSCOMMERCE_SERVICE_URI`,
//! `MSCOMMERCE_AUTHORITY_URI`, as the shim passed it: see [`crate::settings`]); else the public
//! cloud's. So the local emulator is one more environment, chosen by two variables, and
//! `-Environment Public` always means the real service.

use std::net::IpAddr;

use url::{Host, Url};

use crate::error::{Error, ErrorKind, Result};
use crate::settings::{redact_credentials, Variables};

/// The public licensing service.
pub const DEFAULT_SERVICE_URI: &str = "https://licensing.m365.microsoft.com";

/// The variable holding the default service URI.
pub const SERVICE_VARIABLE: &str = "MSCOMMERCE_SERVICE_URI";

/// The variable holding the default authority URI.
pub const AUTHORITY_VARIABLE: &str = "MSCOMMERCE_AUTHORITY_URI";

/// What a connection reports as its environment when its endpoints are no built-in cloud's.
pub const CUSTOM: &str = "Custom";

/// A cloud with known endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cloud {
    /// The name `-Environment` takes.
    pub name: &'static str,
    /// The sign-in authority.
    pub authority_uri: &'static str,
    /// The licensing service.
    pub service_uri: &'static str,
}

/// The clouds whose licensing service is known. The national clouds have their own authorities
/// (login.microsoftonline.us, login.chinacloudapi.cn), but no licensing service of theirs is
/// documented, so they are reached with `-AuthorityUri` and `-ServiceUri` rather than guessed.
pub const CLOUDS: &[Cloud] = &[Cloud {
    name: "Public",
    authority_uri: crate::auth::signin::DEFAULT_AUTHORITY_URI,
    service_uri: DEFAULT_SERVICE_URI,
}];

/// Where a connection signs in and which service it calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The cloud's name, or [`CUSTOM`].
    pub environment: String,
    /// The licensing service, without a trailing slash.
    pub service_uri: Url,
    /// The sign-in authority, without a trailing slash.
    pub authority_uri: Url,
}

/// What the caller chose of the endpoints (`-Environment`, `-ServiceUri`, `-AuthorityUri`);
/// the endpoints follow from these and the variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choices {
    /// The named cloud, if any.
    pub environment: Option<String>,
    /// The explicit service URI, if any.
    pub service_uri: Option<String>,
    /// The explicit authority URI, if any.
    pub authority_uri: Option<String>,
}

impl Choices {
    /// The endpoints these choices give with `variables`.
    pub fn resolve(&self, variables: &Variables) -> Result<Endpoints> {
        Endpoints::resolve(
            self.environment.as_deref(),
            self.service_uri.as_deref(),
            self.authority_uri.as_deref(),
            variables,
        )
    }
}

impl Endpoints {
    /// Resolves the endpoints from the caller's choices and the variables the shim passed.
    pub fn resolve(
        environment: Option<&str>,
        service_uri: Option<&str>,
        authority_uri: Option<&str>,
        variables: &Variables,
    ) -> Result<Self> {
        Self::resolve_with(environment, service_uri, authority_uri, |name| {
            variables.get(name).map(str::to_owned)
        })
    }

    /// [`Endpoints::resolve`] with `variable` giving the value of a variable.
    pub fn resolve_with(
        environment: Option<&str>,
        service_uri: Option<&str>,
        authority_uri: Option<&str>,
        variable: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let named = environment
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| {
                CLOUDS
                    .iter()
                    .find(|cloud| cloud.name.eq_ignore_ascii_case(name))
                    .ok_or_else(|| {
                        let known: Vec<&str> = CLOUDS.iter().map(|cloud| cloud.name).collect();
                        Error::new(
                            ErrorKind::InvalidArgument,
                            format!(
                                "The environment '{name}' is not known: use {}, or -ServiceUri \
                                 and -AuthorityUri.",
                                known.join(", ")
                            ),
                        )
                        .with_target(Some(name))
                    })
            })
            .transpose()?;
        let cloud = named.unwrap_or(&CLOUDS[0]);
        let pick = |explicit: Option<&str>, name: &str, builtin: &str| -> String {
            let explicit = explicit.map(str::trim).filter(|uri| !uri.is_empty());
            let from_variable = || {
                variable(name)
                    .map(|uri| uri.trim().to_owned())
                    .filter(|uri| !uri.is_empty())
            };
            match (explicit, named) {
                (Some(uri), _) => uri.to_owned(),
                (None, Some(_)) => builtin.to_owned(),
                (None, None) => from_variable().unwrap_or_else(|| builtin.to_owned()),
            }
        };
        let service_uri = parse_endpoint_uri(
            &pick(service_uri, SERVICE_VARIABLE, cloud.service_uri),
            "service URI",
        )?;
        let authority_uri = parse_endpoint_uri(
            &pick(authority_uri, AUTHORITY_VARIABLE, cloud.authority_uri),
            "authority URI",
        )?;
        let same = |url: &Url, builtin: &str| url.as_str().trim_end_matches('/') == builtin;
        let environment =
            if same(&service_uri, cloud.service_uri) && same(&authority_uri, cloud.authority_uri) {
                cloud.name.to_owned()
            } else {
                CUSTOM.to_owned()
            };
        Ok(Endpoints {
            environment,
            service_uri,
            authority_uri,
        })
    }
}

/// Validates a service URI: `https`, or `http` only to a loopback host, with no query, fragment
/// or credentials. A trailing slash is dropped.
pub fn parse_service_uri(text: &str) -> Result<Url> {
    parse_endpoint_uri(text, "service URI")
}

/// Validates the URI of a service or authority (`what` names it in errors), as
/// [`parse_service_uri`] describes.
pub fn parse_endpoint_uri(text: &str, what: &str) -> Result<Url> {
    // The URI may come from a variable and hold credentials: they are never repeated.
    let shown = redact_credentials(text);
    let invalid = |why: &str| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("The {what} '{shown}' is not valid: {why}"),
        )
        .with_target(Some(&shown))
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

    fn emulator_variables(name: &str) -> Option<String> {
        match name {
            SERVICE_VARIABLE => Some("http://127.0.0.1:5000".into()),
            AUTHORITY_VARIABLE => Some("http://127.0.0.1:5000/".into()),
            _ => None,
        }
    }

    #[test]
    fn nothing_set_is_the_public_cloud() {
        let endpoints = Endpoints::resolve_with(None, None, None, |_| None).unwrap();
        assert_eq!(endpoints.environment, "Public");
        assert_eq!(
            endpoints.service_uri.as_str(),
            "https://licensing.m365.microsoft.com/"
        );
        assert_eq!(
            endpoints.authority_uri.as_str(),
            "https://login.microsoftonline.com/"
        );
    }

    #[test]
    fn variables_make_the_emulator_the_default() {
        let endpoints = Endpoints::resolve_with(None, None, None, emulator_variables).unwrap();
        assert_eq!(endpoints.environment, CUSTOM);
        assert_eq!(endpoints.service_uri.as_str(), "http://127.0.0.1:5000/");
        assert_eq!(endpoints.authority_uri.as_str(), "http://127.0.0.1:5000/");
    }

    #[test]
    fn a_named_environment_beats_the_variables() {
        let endpoints =
            Endpoints::resolve_with(Some("public"), None, None, emulator_variables).unwrap();
        assert_eq!(endpoints.environment, "Public");
        assert_eq!(
            endpoints.service_uri.as_str(),
            "https://licensing.m365.microsoft.com/"
        );
    }

    #[test]
    fn an_explicit_uri_beats_the_environment() {
        let endpoints = Endpoints::resolve_with(
            Some("Public"),
            Some("http://localhost:7000"),
            None,
            emulator_variables,
        )
        .unwrap();
        assert_eq!(endpoints.environment, CUSTOM);
        assert_eq!(endpoints.service_uri.as_str(), "http://localhost:7000/");
        assert_eq!(
            endpoints.authority_uri.as_str(),
            "https://login.microsoftonline.com/"
        );
    }

    #[test]
    fn an_unknown_environment_names_the_known_ones() {
        let error = Endpoints::resolve_with(Some("Mars"), None, None, |_| None).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        assert!(error.message().contains("Public"), "{}", error.message());
    }

    #[test]
    fn the_variables_passed_are_the_ones_read() {
        let variables = Variables::from_pairs([(SERVICE_VARIABLE, "http://localhost:5001")]);
        let choices = Choices::default();
        let endpoints = choices.resolve(&variables).unwrap();
        assert_eq!(endpoints.service_uri.as_str(), "http://localhost:5001/");
        assert_eq!(
            endpoints.authority_uri.as_str(),
            "https://login.microsoftonline.com/"
        );
        let public = choices.resolve(&Variables::new()).unwrap();
        assert_eq!(public.environment, "Public");
    }

    #[test]
    fn a_bad_variable_is_reported_not_ignored() {
        let error = Endpoints::resolve_with(None, None, None, |name| {
            (name == SERVICE_VARIABLE).then(|| "http://example.com".to_owned())
        })
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    }
}
