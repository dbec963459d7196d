//! A local emulator of the licensing service behind Microsoft's MSCommerce PowerShell module
//! (`https://licensing.m365.microsoft.com/v1.0`), for dry runs and tests.
//!
//! [`router`] builds the whole HTTP API over an [`AppState`], so tests can drive it in-process;
//! [`serve`] runs it on a listener until a shutdown future completes. State lives in a SQLite
//! database ([`store::Store`]) that survives restarts.
//!
//! The same server is the sign-in authority that issues the tokens the API accepts (Microsoft
//! identity platform v2: authorization code with PKCE, device code, refresh token, client
//! credentials), signed with a key kept in the store.
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
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

pub mod clock;
pub mod error;
pub mod keys;
pub mod middleware;
pub mod model;
pub mod routes;
pub mod secrets;
pub mod seed;
pub mod settings;
pub mod store;
pub mod tokens;

use keys::{KeyError, SigningKey};
use settings::Settings;
use store::Store;

/// The state every handler shares. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct AppState {
    store: Store,
    key: Arc<SigningKey>,
    settings: Settings,
    base_uri: Arc<str>,
}

impl AppState {
    /// State over an opened store and its signing key. `base_uri` is the server's own address
    /// (`http://127.0.0.1:PORT`, see [`base_uri`]), from which the authority builds its URLs.
    pub fn new(store: Store, key: SigningKey, settings: Settings, base_uri: String) -> Self {
        Self {
            store,
            key: Arc::new(key),
            settings,
            base_uri: base_uri.into(),
        }
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

    /// The lifetimes and intervals.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The server's own address, without a trailing slash.
    pub fn base_uri(&self) -> &str {
        &self.base_uri
    }
}

/// The address clients use for a server listening on `addr`: an unspecified address (`0.0.0.0`,
/// `::`) becomes the loopback address.
pub fn base_uri(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Builds the emulator's HTTP API: the licensing API under `/v1.0`, the sign-in authority
/// (`/{tenant}/oauth2/v2.0/...`, `/devicelogin`, discovery) and the admin area (`/admin`).
///
/// Every response carries the request's `x-ms-correlation-id` (a new one when the request has
/// none); every `/v1.0` request needs a valid bearer token; unknown routes answer a JSON 404.
/// Serve it with connection info (as [`serve`] does): the admin area answers loopback clients only.
pub fn router(state: AppState) -> Router {
    let v1 = routes::licensing::router()
        .method_not_allowed_fallback(routes::method_not_allowed)
        .fallback(routes::no_route)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::require_user,
        ));
    Router::new()
        .nest("/v1.0", v1)
        .nest("/admin", routes::admin::router())
        .merge(routes::authority::router())
        .fallback(routes::no_route)
        .layer(axum::middleware::from_fn(middleware::correlation_id))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve<F>(listener: TcpListener, state: AppState, shutdown: F) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
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
