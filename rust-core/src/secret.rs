//! A secret string that cannot leak through formatting: access and refresh tokens, wherever
//! they travel (requests, the token cache, the `Authorization` header).

use std::fmt;

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
