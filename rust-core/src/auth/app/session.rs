//! An app-only session: a credential and the token it last gave, renewed before it expires.
//! The token lives in memory only (never in the token cache: an unattended job signs in again
//! from its credential), and many requests at once share one renewal.

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;

use super::credentials::{AppCredential, ClientCredentials};
use super::managed::ManagedIdentity;
use super::token::AppToken;
use crate::error::Result;
use crate::http::Cancel;
use crate::log::Sink;
use crate::secret::Secret;
use crate::settings::Variables;

/// How an app-only session signs in, as a connection reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppAuthType {
    /// An app registration's secret or certificate.
    AppOnly,
    /// The Azure host's managed identity.
    ManagedIdentity,
    /// A federated token (workload identity).
    WorkloadIdentity,
}

impl AppAuthType {
    /// `AppOnly`, `ManagedIdentity` or `WorkloadIdentity`.
    pub fn name(self) -> &'static str {
        match self {
            AppAuthType::AppOnly => "AppOnly",
            AppAuthType::ManagedIdentity => "ManagedIdentity",
            AppAuthType::WorkloadIdentity => "WorkloadIdentity",
        }
    }
}

impl fmt::Display for AppAuthType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an app-only session's tokens come from.
#[derive(Debug, Clone)]
pub enum TokenSource {
    /// The client credentials grant at an authority.
    ClientCredentials(ClientCredentials),
    /// A managed identity endpoint.
    ManagedIdentity(ManagedIdentity),
}

impl TokenSource {
    /// The auth type a connection reports for this source.
    pub fn auth_type(&self) -> AppAuthType {
        match self {
            TokenSource::ClientCredentials(app) => match app.credential() {
                AppCredential::FederatedTokenFile(_) => AppAuthType::WorkloadIdentity,
                _ => AppAuthType::AppOnly,
            },
            TokenSource::ManagedIdentity(_) => AppAuthType::ManagedIdentity,
        }
    }

    async fn acquire(&self, variables: &Variables, cancel: &Cancel) -> Result<AppToken> {
        match self {
            TokenSource::ClientCredentials(app) => app.acquire(variables, cancel).await,
            TokenSource::ManagedIdentity(identity) => identity.acquire(cancel).await,
        }
    }
}

/// What a `getConnection` reply says of an app-only session. Never a secret or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppConnection {
    /// How it signs in.
    pub auth_type: AppAuthType,
    /// The app's client id: the one configured, else the token's (`appid`/`azp`, a
    /// system-assigned managed identity's).
    pub app_id: Option<String>,
    /// The tenant: the token's (`tid`), else the one configured.
    pub tenant_id: Option<String>,
    /// The certificate's SHA-1 thumbprint, for a certificate credential.
    pub certificate_thumbprint: Option<String>,
    /// The managed identity source (`AppService`, `AzureArc`, `Imds`, ...), for a managed
    /// identity.
    pub managed_identity_source: Option<&'static str>,
    /// When the current token expires, in Unix seconds; `None` before the first one.
    pub expires_on: Option<u64>,
}

/// An app-only session. Share it behind an `Arc`: every method takes `&self`.
pub struct AppSession {
    source: TokenSource,
    /// The token last obtained, read without waiting on a renewal in progress.
    current: Mutex<Option<AppToken>>,
    /// Held for the length of a renewal, so concurrent callers wait for one renewal instead of
    /// each asking the authority; holds when a failed renewal may be tried again.
    renewal: tokio::sync::Mutex<Option<Instant>>,
}

impl fmt::Debug for AppSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppSession")
            .field("source", &self.source)
            .field("expires_on", &self.held().map(|token| token.expires_on()))
            .finish()
    }
}

impl AppSession {
    /// A session with no token yet; the first request gets one.
    pub fn new(source: TokenSource) -> Self {
        AppSession {
            source,
            current: Mutex::new(None),
            renewal: tokio::sync::Mutex::new(None),
        }
    }

    /// A session with its first token, so a credential that does not work fails `connect`
    /// rather than the first cmdlet after it.
    pub async fn sign_in(
        source: TokenSource,
        variables: &Variables,
        sink: &Sink,
        cancel: &Cancel,
    ) -> Result<Self> {
        let session = AppSession::new(source);
        session.access_token(variables, sink, cancel).await?;
        Ok(session)
    }

    /// Where its tokens come from.
    pub fn source(&self) -> &TokenSource {
        &self.source
    }

    /// How it signs in.
    pub fn auth_type(&self) -> AppAuthType {
        self.source.auth_type()
    }

    /// A token for a request: the current one, or a new one when it is within its renewal
    /// margin (see [`AppToken::needs_renewal`]). Callers arriving during a renewal wait for it
    /// and share its token. When a renewal fails while the current token still has a while to
    /// run, that token is used and the renewal tried again later (a verbose line says so), so
    /// a passing fault at the authority does not fail a long run.
    pub async fn access_token(
        &self,
        variables: &Variables,
        sink: &Sink,
        cancel: &Cancel,
    ) -> Result<Secret> {
        if let Some(token) = self.held().filter(|token| !token.needs_renewal()) {
            return Ok(token.access().clone());
        }
        let mut retry_at = self.renewal.lock().await;
        // Renewed by another caller while this one waited for the lock.
        let held = self.held();
        if let Some(token) = held.as_ref().filter(|token| !token.needs_renewal()) {
            return Ok(token.access().clone());
        }
        if let (Some(token), Some(at)) = (&held, *retry_at) {
            let now = Instant::now();
            if now < at && token.usable_at(now) {
                return Ok(token.access().clone());
            }
        }
        if held.is_some() {
            sink.verbose("renewing the app-only access token before it expires");
        }
        match self.source.acquire(variables, cancel).await {
            Ok(token) => {
                let access = token.access().clone();
                sink.verbose(&format!(
                    "{} access token obtained; it expires in {} seconds",
                    self.auth_type(),
                    token
                        .expires_at()
                        .duration_since(std::time::SystemTime::now())
                        .unwrap_or(Duration::ZERO)
                        .as_secs()
                ));
                *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(token);
                *retry_at = None;
                Ok(access)
            }
            Err(error) if error.is_cancelled() => Err(error),
            Err(error) => match held {
                Some(token) if token.usable_at(Instant::now()) => {
                    *retry_at = Some(Instant::now() + token.retry_delay());
                    sink.verbose(&format!(
                        "renewing the access token failed; the current one is used until it \
                         can be renewed ({})",
                        error.message()
                    ));
                    Ok(token.access().clone())
                }
                _ => Err(error),
            },
        }
    }

    /// What a `getConnection` reply needs.
    pub fn connection(&self) -> AppConnection {
        let held = self.held();
        let claims = held.as_ref().map(|token| claims_of(token.access()));
        let claims = claims.unwrap_or_default();
        let (configured_app, configured_tenant, thumbprint, source) = match &self.source {
            TokenSource::ClientCredentials(app) => (
                Some(app.client_id().to_owned()),
                Some(app.tenant().to_owned()),
                match app.credential() {
                    AppCredential::Certificate(certificate) => Some(certificate.info.thumbprint()),
                    _ => None,
                },
                None,
            ),
            TokenSource::ManagedIdentity(identity) => (
                identity.client_id().map(str::to_owned),
                None,
                None,
                Some(identity.source().name()),
            ),
        };
        AppConnection {
            auth_type: self.auth_type(),
            app_id: configured_app.or(claims.appid).or(claims.azp),
            tenant_id: claims.tid.or(configured_tenant),
            certificate_thumbprint: thumbprint,
            managed_identity_source: source,
            expires_on: held.map(|token| token.expires_on()),
        }
    }

    fn held(&self) -> Option<AppToken> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[derive(Deserialize, Default)]
struct Claims {
    appid: Option<String>,
    azp: Option<String>,
    tid: Option<String>,
}

/// The app and tenant claims of a JWT access token (never checked: the service does).
fn claims_of(token: &Secret) -> Claims {
    token
        .expose()
        .split('.')
        .nth(1)
        .and_then(|payload| URL_SAFE_NO_PAD.decode(payload).ok())
        .and_then(|json| serde_json::from_slice(&json).ok())
        .unwrap_or_default()
}
