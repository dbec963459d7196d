//! The lifetimes and intervals of the sign-in authority, settable for tests (`serve` flags).

/// How long what the authority hands out lives, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Access (and ID) token lifetime (`--token-lifetime-seconds`, default 3600).
    pub token_lifetime_s: u32,
    /// App-only token lifetime (client credentials and managed identities); `None` follows
    /// `token_lifetime_s` (`--app-token-lifetime-seconds`).
    pub app_token_lifetime_s: Option<u32>,
    /// The device flow's polling interval (`--device-code-interval-seconds`, default 5).
    pub device_code_interval_s: u32,
    /// The device code lifetime (`--device-code-lifetime-seconds`, default 900).
    pub device_code_lifetime_s: u32,
    /// The authorization code lifetime (default 300).
    pub auth_code_lifetime_s: u32,
    /// The refresh token lifetime (default 90 days).
    pub refresh_token_lifetime_s: u32,
}

impl Settings {
    /// The lifetime of app-only tokens in effect.
    pub fn app_token_lifetime(&self) -> u32 {
        self.app_token_lifetime_s.unwrap_or(self.token_lifetime_s)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            token_lifetime_s: 3600,
            app_token_lifetime_s: None,
            device_code_interval_s: 5,
            device_code_lifetime_s: 900,
            auth_code_lifetime_s: 300,
            refresh_token_lifetime_s: 90 * 24 * 60 * 60,
        }
    }
}
