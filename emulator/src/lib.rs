//! A local emulator of the licensing service behind Microsoft's MSCommerce PowerShell module
//! (`https://licensing.m365.microsoft.com/v1.0`, also answered under `/v1`), for dry runs and
//! tests.
//!
//! [`router`] builds the whole HTTP API over an [`AppState`], so tests can drive it in-process;
//! [`serve`] runs it on a listener until a shutdown future completes. State lives in a SQLite
//! database ([`store::Store`]) that survives restarts.
//!
//! It also serves an admin area for people and tests on the same machine (a page of each tenant's
//! settings and change history, knobs that inject faults into the licensing API, see [`faults`]),
//! and the OpenAPI document of the licensing API (`/openapi.json`). [`serve_tls`] serves it all
//! over HTTPS ([`tls`]).
//!
//! The same server is the sign-in authority that issues the tokens the API accepts (Microsoft
//! identity platform v2: authorization code with PKCE, device code, refresh token, client
//! credentials with a secret, a certificate assertion or a federated token), signed with a key
//! kept in the store, and the managed identity endpoints (App Service and instance metadata
//! style, see [`routes::identity`]) for the app registrations of [`apps`]. A partner tenant's
//! users act in its customer tenants through delegated admin relationships ([`gdap`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mscommerce_emulator::{base_uri, serve, settings::Settings, shutdown_signal, store::Store, AppState};
//!
//! let store = Store::open(std::path::Path::new("emulator-data"))?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let base = base_uri(listener.local_addr()?);
//! println!("listening on {base}");
//! let state = AppState::open(store, Settings::default(), base).await?;
//! serve(listener, state, shutdown_signal()).await?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, PoisonError, RwLock};

use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

pub mod apps;
pub mod cli;
pub mod clock;
pub mod error;
pub mod faults;
pub mod gdap;
pub mod keys;
pub mod middleware;
pub mod model;
pub mod products;
pub mod request_counts;
pub mod routes;
pub mod secrets;
pub mod seed;
pub mod server;
pub mod settings;
pub mod store;
pub mod tls;
pub mod tokens;

use faults::Faults;
use keys::{KeyError, SigningKey};
use request_counts::RequestCounts;
use settings::Settings;
use store::Store;

/// The state every handler shares. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct AppState {
    store: Store,
    key: Arc<SigningKey>,
    settings: Arc<RwLock<Settings>>,
    faults: Arc<Faults>,
    requests: Arc<RequestCounts>,
    base_uri: Arc<str>,
    identity_header: Arc<str>,
}

impl AppState {
    /// State over an opened store and its signing key. `base_uri` is the server's own address
    /// (`http://127.0.0.1:PORT`, see [`base_uri`]), from which the authority builds its URLs.
    pub fn new(store: Store, key: SigningKey, settings: Settings, base_uri: String) -> Self {
        Self {
            store,
            key: Arc::new(key),
            settings: Arc::new(RwLock::new(settings)),
            faults: Arc::new(Faults::new()),
            requests: Arc::new(RequestCounts::new()),
            base_uri: base_uri.into(),
            identity_header: secrets::issue(32).into(),
        }
    }

    /// The same state with this secret as the managed identity endpoint's `X-IDENTITY-HEADER`
    /// (instead of the random one each state starts with); it is journaled as a secret.
    pub fn with_identity_header(mut self, secret: &str) -> Self {
        secrets::journal(secret);
        self.identity_header = secret.into();
        self
    }

    /// The secret the App Service style managed identity endpoint (`/msi/token`) wants in
    /// `X-IDENTITY-HEADER` (`GET /admin/identity` shows it).
    pub fn identity_header(&self) -> &str {
        &self.identity_header
    }

    /// State over an opened store, with its signing key (generated and stored on first use).
    pub async fn open(
        store: Store,
        settings: Settings,
        base_uri: String,
    ) -> Result<Self, KeyError> {
        let key = SigningKey::load_or_create(&store).await?;
        Ok(Self::new(store, key, settings, base_uri))
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The key that signs and checks tokens.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The lifetimes and intervals in effect.
    pub fn settings(&self) -> Settings {
        *self.settings.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the lifetimes and intervals for what is issued from now on (`PUT /admin/settings`).
    pub fn update_settings(&self, change: impl FnOnce(&mut Settings)) -> Settings {
        let mut settings = self
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        change(&mut settings);
        *settings
    }

    /// The faults injected into the licensing API.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// How many licensing requests arrived, by method and path (`GET /admin/requests`).
    pub fn requests(&self) -> &RequestCounts {
        &self.requests
    }

    /// The server's own address, without a trailing slash.
    pub fn base_uri(&self) -> &str {
        &self.base_uri
    }
}

/// The address clients use for a server listening on `addr` (`http://IP:PORT`): an unspecified
/// address (`0.0.0.0`, `::`) becomes the loopback address.
pub fn base_uri(addr: SocketAddr) -> String {
    base_uri_with_scheme(addr, "http")
}

/// Like [`base_uri`], with another scheme (`https` for [`serve_tls`]).
pub fn base_uri_with_scheme(addr: SocketAddr, scheme: &str) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("{scheme}://{}", SocketAddr::new(ip, addr.port()))
}

/// Builds the emulator's HTTP API: the licensing API under `/v1.0` and `/v1` (the same routes,
/// see [`routes::licensing::PREFIXES`]), the sign-in authority (`/{tenant}/oauth2/v2.0/...`,
/// `/devicelogin`, discovery), the admin area (`/admin`) and the licensing API's OpenAPI
/// document (`/openapi.json`).
///
/// Every response carries the request's `x-ms-correlation-id` (a new one when the request has
/// none); every licensing request needs a valid bearer token, after the injected faults
/// ([`faults::inject`]); unknown routes answer a JSON 404. Serve it as [`serve`] does (with
/// connection info; a dropped-connection fault needs [`server::ConnectionControl`]): the admin
/// area answers loopback clients only.
pub fn router(state: AppState) -> Router {
    let v1 = routes::licensing::router()
        .method_not_allowed_fallback(routes::method_not_allowed)
        .fallback(routes::no_route)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::require_user,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::inject,
        ));
    // The same router (layers included) under each prefix, so `/v1` and `/v1.0` cannot drift
    // apart in auth, faults or request counts.
    let licensed = routes::licensing::PREFIXES
        .iter()
        .fold(Router::new(), |app, prefix| app.nest(prefix, v1.clone()));
    licensed
        .nest("/admin", routes::admin::router())
        .route("/openapi.json", get(routes::openapi::document))
        .merge(routes::authority::router())
        .merge(routes::identity::router())
        .fallback(routes::no_route)
        .layer(axum::middleware::from_fn(middleware::correlation_id))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve<F>(listener: TcpListener, state: AppState, shutdown: F) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    server::run(listener, router(state), None, shutdown).await
}

/// Like [`serve`], over TLS with `tls` (see [`tls::Tls`]). The state's base URI should be
/// `https` ([`base_uri_with_scheme`]).
pub async fn serve_tls<F>(
    listener: TcpListener,
    state: AppState,
    tls: tls::Tls,
    shutdown: F,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    server::run(listener, router(state), Some(tls.acceptor), shutdown).await
}

/// Completes on Ctrl+C or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl+C");
            std::future::pending::<()>().await;
        }
    };

    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
