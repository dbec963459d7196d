//! The options of a `connect` request: how to sign in, as whom, and where the sign-in is kept;
//! validated here from the request's fields.

use std::time::Duration;

use super::browser::{BrowserOptions, DEFAULT_REDIRECT_URI, DEFAULT_TIMEOUT};
use super::signin::{Identity, RawSignIn};
use crate::error::{Error, ErrorKind, Result};

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

/// The fields of a `connect` request, as the shim sent them.
#[derive(Debug, Default, Clone)]
pub struct RawConnect {
    /// `browser` or `deviceCode`.
    pub flow: String,
    /// The tenant, client id and resource.
    pub signin: RawSignIn,
    /// The loopback redirect URI (browser).
    pub redirect_uri: Option<String>,
    /// The account expected.
    pub login_hint: Option<String>,
    /// `CurrentUser` (default) or `Process`.
    pub context_scope: Option<String>,
    /// How long the browser flow waits for the user.
    pub timeout_seconds: Option<f64>,
}

impl ConnectOptions {
    /// Validates the fields of a `connect` request, filling in the defaults.
    pub fn parse(raw: RawConnect) -> Result<Self> {
        let RawConnect {
            flow,
            signin,
            redirect_uri,
            login_hint,
            context_scope,
            timeout_seconds,
        } = raw;
        let invalid = |message: String| Error::new(ErrorKind::InvalidArgument, message);
        let timeout = match timeout_seconds {
            None => DEFAULT_TIMEOUT,
            Some(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0 => {
                Duration::from_secs_f64(seconds)
            }
            Some(_) => {
                return Err(invalid(
                    "timeoutSeconds must be a number of seconds above 0 and at most 3600.".into(),
                ))
            }
        };
        let flow = match flow.as_str() {
            "browser" => Flow::Browser(BrowserOptions {
                redirect_uri: BrowserOptions::parse_redirect_uri(
                    redirect_uri.as_deref().unwrap_or(DEFAULT_REDIRECT_URI),
                )?,
                login_hint: login_hint.clone(),
                timeout,
            }),
            "deviceCode" => Flow::DeviceCode,
            other => {
                return Err(invalid(format!(
                    "The sign-in flow '{other}' is not supported; use browser or deviceCode."
                )))
            }
        };
        let login_hint = login_hint
            .map(|hint| hint.trim().to_owned())
            .filter(|hint| !hint.is_empty());
        if login_hint
            .as_deref()
            .is_some_and(|hint| hint.chars().any(|c| c.is_control() || c.is_whitespace()))
        {
            return Err(invalid("The login hint is not a sign-in name.".into())
                .with_target(login_hint.as_deref()));
        }
        let context_scope = match context_scope.as_deref() {
            None | Some("CurrentUser") => ContextScope::CurrentUser,
            Some("Process") => ContextScope::Process,
            Some(other) => {
                return Err(invalid(format!(
                    "The context scope '{other}' is not known; use CurrentUser or Process."
                )))
            }
        };
        Ok(ConnectOptions {
            identity: Identity::from_raw(signin)?,
            flow,
            login_hint,
            context_scope,
        })
    }
}
