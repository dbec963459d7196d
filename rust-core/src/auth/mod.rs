//! Credentials and sign-in: a bearer token obtained elsewhere (`-Token`,
//! `Connect-MSCommerce -AccessToken`), or a session signed in through the authority (the
//! browser, a device code, or silently from the token cache) whose access token is refreshed
//! before it expires.

pub mod browser;
pub mod cache;
pub mod device;
pub mod signin;
pub mod tokens;

use std::fmt;

use browser::BrowserOptions;
use signin::Identity;

/// How a `connect` request signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    /// The system browser and a loopback redirect (authorization code with PKCE).
    Browser(BrowserOptions),
    /// A device code, entered on any device with a browser.
    DeviceCode,
}

/// Where a sign-in is kept (`-ContextScope`, as Az.Accounts names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextScope {
    /// In the token cache, so later processes of the same user reconnect silently.
    CurrentUser,
    /// In this process only: the cache is neither read nor written.
    Process,
}

impl ContextScope {
    /// The name PowerShell shows.
    pub fn name(self) -> &'static str {
        match self {
            ContextScope::CurrentUser => "CurrentUser",
            ContextScope::Process => "Process",
        }
    }
}

/// A validated `connect` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Who signs in, for what.
    pub identity: Identity,
    /// How, when the cache cannot serve.
    pub flow: Flow,
    /// The account expected (`-LoginHint`): preselected on the page, and required of a cached
    /// account.
    pub login_hint: Option<String>,
    /// Whether the cache is used.
    pub context_scope: ContextScope,
}

/// A secret string (an access or refresh token) that never shows itself in `Debug` or
/// `Display`, so it cannot leak through a log line or an error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret. Returns `None` for an empty or blank string, which is no credential.
    pub fn new(value: impl Into<String>) -> Option<Self> {
        let value = value.into();
        if value.trim().is_empty() {
            None
        } else {
            Some(Secret(value))
        }
    }

    /// The secret itself, for the one place that must send it (the `Authorization` header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let secret = Secret::new("eyJ0eXAi.secret.value").unwrap();
        assert!(!format!("{secret:?}").contains("secret.value"));
        assert!(!format!("{secret}").contains("secret.value"));
        assert_eq!(secret.expose(), "eyJ0eXAi.secret.value");
    }

    #[test]
    fn blank_token_is_no_credential() {
        assert!(Secret::new("  ").is_none());
        assert!(Secret::new("").is_none());
    }
}
