//! Credentials and sign-in: a bearer token obtained elsewhere (`-Token`,
//! `Connect-MSCommerce -AccessToken`), a session signed in through the authority (the
//! browser, a device code, or silently from the token cache) whose access token is refreshed
//! before it expires, or an app-only session ([`app`]: a client secret, a certificate, a
//! federated token or a managed identity) renewed the same way.

pub mod app;
pub mod browser;
pub mod cache;
pub mod device;
pub mod signin;
pub mod tokens;

mod options;

pub use options::{ConnectOptions, ContextScope, Flow, RawConnect};

/// Every cmdlet but Connect throws this when there is no connection and no `-Token`.
pub const NOT_CONNECTED_MESSAGE: &str =
    "You must call the Connect-MSCommerce cmdlet before calling any other cmdlets";

/// The message for a 401 answer, and for a session whose refresh token was refused.
pub const AUTH_EXPIRED_MESSAGE: &str = "Your credentials have expired. Please, call Connect-MSCommerce again to regain access to MSCommerce Module.";
