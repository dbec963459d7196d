//! Proxies: from the variables the shim passed, never from the process environment, which on
//! Linux and macOS does not see `$env:` changes made in PowerShell (see [`crate::settings`]).
//!
//! `HTTPS_PROXY` (else `https_proxy`) carries `https` requests, `HTTP_PROXY` (else `http_proxy`)
//! `http` ones, and `ALL_PROXY` (else `all_proxy`) both when the one for the scheme is not set;
//! `NO_PROXY` (else `no_proxy`) lists the hosts that bypass them, as reqwest reads it (comma
//! separated domains, which match their subdomains too, IP addresses and networks, or `*`). The
//! upper-case name wins, as in reqwest's own reading of the environment. With none of the proxy
//! variables set, Windows and macOS use the system's proxy settings (reqwest's `system-proxy`),
//! and other systems connect directly.

use reqwest::{ClientBuilder, NoProxy, Proxy};

use crate::error::{Error, ErrorKind, Result};
use crate::settings::{redact_credentials, Variables};

const HTTPS: &[&str] = &["HTTPS_PROXY", "https_proxy"];
const HTTP: &[&str] = &["HTTP_PROXY", "http_proxy"];
const ALL: &[&str] = &["ALL_PROXY", "all_proxy"];
const NONE: &[&str] = &["NO_PROXY", "no_proxy"];

/// One proxy variable that is set: its name (for messages) and its value.
#[derive(Clone, PartialEq, Eq)]
struct Setting {
    variable: &'static str,
    value: String,
}

/// The proxy variables that are set, which decide how requests leave the process. Two clients
/// with equal settings share one connection pool. No `Debug`: a value may hold a password.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ProxySettings {
    https: Option<Setting>,
    http: Option<Setting>,
    all: Option<Setting>,
    no_proxy: Option<String>,
}

impl ProxySettings {
    /// The proxy settings of `variables`.
    pub(crate) fn of(variables: &Variables) -> Self {
        let setting = |names: &[&'static str]| {
            variables
                .first_of(names)
                .map(|(variable, value)| Setting {
                    variable,
                    value: value.trim().to_owned(),
                })
                .filter(|setting| !setting.value.is_empty())
        };
        ProxySettings {
            https: setting(HTTPS),
            http: setting(HTTP),
            all: setting(ALL),
            no_proxy: variables.first_of(NONE).map(|(_, value)| value.to_owned()),
        }
    }

    /// True when no proxy variable names a proxy (`NO_PROXY` alone names none).
    fn names_no_proxy(&self) -> bool {
        self.https.is_none() && self.http.is_none() && self.all.is_none()
    }

    /// `builder` with these proxies, or with the platform's default when none is named.
    pub(crate) fn apply(&self, builder: ClientBuilder) -> Result<ClientBuilder> {
        if self.names_no_proxy() {
            // Without `.proxy()` or `.no_proxy()` reqwest reads the system's settings, which on
            // Windows and macOS is what users expect; elsewhere it would read the process
            // environment, which is exactly what must not happen.
            return Ok(if cfg!(any(windows, target_os = "macos")) {
                builder
            } else {
                builder.no_proxy()
            });
        }
        let no_proxy = self.no_proxy.as_deref().and_then(NoProxy::from_string);
        let mut builder = builder;
        // reqwest asks the proxies in the order given: the one for the scheme first, then the
        // catch-all.
        if let Some(setting) = &self.https {
            let proxy = Proxy::https(setting.value.as_str()).map_err(|e| invalid(setting, &e))?;
            builder = builder.proxy(proxy.no_proxy(no_proxy.clone()));
        }
        if let Some(setting) = &self.http {
            let proxy = Proxy::http(setting.value.as_str()).map_err(|e| invalid(setting, &e))?;
            builder = builder.proxy(proxy.no_proxy(no_proxy.clone()));
        }
        if let Some(setting) = &self.all {
            let proxy = Proxy::all(setting.value.as_str()).map_err(|e| invalid(setting, &e))?;
            builder = builder.proxy(proxy.no_proxy(no_proxy));
        }
        Ok(builder)
    }
}

/// A proxy variable reqwest cannot use. The value is never repeated: it may hold a password.
fn invalid(setting: &Setting, error: &reqwest::Error) -> Error {
    let mut why = String::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(cause) = source {
        if !why.is_empty() {
            why.push_str(": ");
        }
        why.push_str(&cause.to_string());
        source = cause.source();
    }
    if why.is_empty() {
        why = error.to_string();
    }
    Error::new(
        ErrorKind::InvalidArgument,
        format!(
            "The proxy in {} is not a URL the module can use ({}).",
            setting.variable,
            redact_credentials(&why)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_case_names_win_and_no_proxy_alone_names_no_proxy() {
        let settings = ProxySettings::of(&Variables::from_pairs([
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
            ("no_proxy", "localhost"),
        ]));
        let https = settings.https.clone().unwrap();
        assert_eq!(
            (https.variable, https.value.as_str()),
            ("HTTPS_PROXY", "http://upper:1")
        );
        assert!(settings.http.is_none());
        assert_eq!(settings.no_proxy.as_deref(), Some("localhost"));
        assert!(!settings.names_no_proxy());
        assert!(ProxySettings::of(&Variables::from_pairs([("NO_PROXY", "*")])).names_no_proxy());
    }

    #[test]
    fn equal_variables_give_equal_settings() {
        let one = Variables::from_pairs([("HTTP_PROXY", "http://p:1"), ("HOME", "/a")]);
        let other = Variables::from_pairs([("HTTP_PROXY", "http://p:1"), ("HOME", "/b")]);
        assert!(ProxySettings::of(&one) == ProxySettings::of(&other));
        let third = Variables::from_pairs([("HTTP_PROXY", "http://p:2")]);
        assert!(ProxySettings::of(&one) != ProxySettings::of(&third));
    }

    #[test]
    fn an_unusable_proxy_names_its_variable_and_hides_its_value() {
        let settings = ProxySettings::of(&Variables::from_pairs([(
            "ALL_PROXY",
            "http://user:s3cret@[not-an-ip",
        )]));
        let error = match settings.apply(reqwest::Client::builder()) {
            Ok(_) => panic!("an invalid proxy URL was accepted"),
            Err(error) => error,
        };
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        assert!(error.message().contains("ALL_PROXY"), "{}", error.message());
        assert!(!error.message().contains("s3cret"), "{}", error.message());
    }
}
