//! Which URLs app-only sign-in may send a credential to: `https` anywhere, plain `http` only to
//! this machine (loopback) and, for managed identity, to the instance metadata service's one
//! link-local address, which the platform serves from the host and never over a network.

use std::net::{IpAddr, Ipv4Addr};

use url::{Host, Url};

use crate::error::{Error, ErrorKind, Result};
use crate::settings::redact_credentials;

/// The instance metadata service's address on every Azure VM.
pub const IMDS_ADDRESS: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);

/// Where plain `http` is allowed besides loopback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlainHttp {
    /// Loopback only (an authority, App Service's local endpoint, Arc's agent).
    Loopback,
    /// Loopback and the instance metadata service's address.
    LoopbackOrImds,
}

/// Parses `text` (from the variable or field `what`) as an endpoint a credential may go to.
/// `https`, or `http` as `plain` allows; no credentials or fragment in it. A query is refused
/// too unless `allow_query` (a managed identity endpoint is used as given, query included).
pub(crate) fn parse(text: &str, what: &str, plain: PlainHttp, allow_query: bool) -> Result<Url> {
    let shown = redact_credentials(text.trim());
    let invalid = |why: &str| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("The {what} '{shown}' is not valid: {why}"),
        )
        .with_target(Some(&shown))
    };
    let url = Url::parse(text.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it must not hold credentials."));
    }
    if url.fragment().is_some() || (!allow_query && url.query().is_some()) {
        return Err(invalid("it must not have a query or a fragment."));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url.host()) => {}
        "http" if plain == PlainHttp::LoopbackOrImds && is_imds(url.host()) => {}
        "http" => {
            return Err(invalid(match plain {
                PlainHttp::Loopback => {
                    "plain http is allowed only to a loopback host (localhost, 127.0.0.1, [::1]); use https."
                }
                PlainHttp::LoopbackOrImds => {
                    "plain http is allowed only to a loopback host or the instance metadata service (169.254.169.254); use https."
                }
            }))
        }
        _ => return Err(invalid("the scheme must be https.")),
    }
    if url.host().is_none() {
        return Err(invalid("it has no host."));
    }
    Ok(url)
}

/// `url` without the trailing slash of its path, so segments can be pushed onto it.
pub(crate) fn without_trailing_slash(mut url: Url) -> Url {
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    url
}

fn is_loopback(host: Option<Host<&str>>) -> bool {
    match host {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn is_imds(host: Option<Host<&str>>) -> bool {
    matches!(host, Some(Host::Ipv4(ip)) if ip == IMDS_ADDRESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_goes_to_loopback_and_the_metadata_service_only() {
        let imds = PlainHttp::LoopbackOrImds;
        for ok in [
            "https://login.microsoftonline.com",
            "http://127.0.0.1:8080/token",
            "http://localhost:4141/msi/token",
            "http://[::1]:9/",
            "http://169.254.169.254/metadata/identity/oauth2/token",
        ] {
            assert!(parse(ok, "endpoint", imds, false).is_ok(), "{ok}");
        }
        for refused in [
            "http://169.254.169.253/",
            "http://10.0.0.4/",
            "http://example.com/",
            "ftp://127.0.0.1/",
            "https://user:s3cret@example.com/",
        ] {
            let error = parse(refused, "endpoint", imds, false).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidArgument);
            assert!(!error.message().contains("s3cret"), "{error}");
        }
        assert!(parse(
            "http://169.254.169.254/",
            "authority",
            PlainHttp::Loopback,
            false
        )
        .is_err());
    }

    #[test]
    fn a_query_is_kept_only_where_allowed() {
        let with_query = "http://127.0.0.1:9/token?x=1";
        assert!(parse(with_query, "endpoint", PlainHttp::Loopback, false).is_err());
        let url = parse(with_query, "endpoint", PlainHttp::Loopback, true).unwrap();
        assert_eq!(url.query(), Some("x=1"));
    }
}
