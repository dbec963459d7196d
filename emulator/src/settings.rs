//! The lifetimes and intervals of the sign-in authority, settable for tests (`serve` flags).

/// How long what the authority hands out lives, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Access (and ID) token lifetime (`--token-lifetime-seconds`, default 3600).
    pub token_lifetime_s: u32,
    /// The device flow's polling interval (`--device-code-interval-seconds`, default 5).
    pub device_code_interval_s: u32,
    /// The device code lifetime (`--device-code-lifetime-seconds`, default 900).
    pub device_code_lifetime_s: u32,
    /// The authorization code lifetime (default 300).
    pub auth_code_lifetime_s: u32,
    /// The refresh token lifetime (default 90 days).
    pub refresh_token_lifetime_s: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            token_lifetime_s: 3600,
            device_code_interval_s: 5,
            device_code_lifetime_s: 900,
            auth_code_lifetime_s: 300,
            refresh_token_lifetime_s: 90 * 24 * 60 * 60,
        }
    }
}
