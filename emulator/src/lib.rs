//! A local emulator of the licensing service behind Microsoft's MSCommerce PowerShell module
//! (`https://licensing.m365.microsoft.com/v1.0`), for dry runs and tests.
//!
//! [`router`] builds the whole HTTP API over an [`AppState`], so tests can drive it in-process;
//! [`serve`] runs it on a listener until a shutdown future completes. State lives in a SQLite
//! database ([`store::Store`]) that survives restarts.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mscommerce_emulator::{serve, shutdown_signal, store::Store, AppState};
//!
//! let store = Store::open(std::path::Path::new("emulator-data"))?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! println!("listening on {}", listener.local_addr()?);
//! serve(listener, AppState::new(store), shutdown_signal()).await?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::future::Future;
use std::io;

use axum::Router;
use tokio::net::TcpListener;

pub mod error;
pub mod middleware;
pub mod model;
pub mod routes;
pub mod seed;
pub mod store;

use store::Store;

/// The state every handler shares. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct AppState {
    store: Store,
}

impl AppState {
    /// State over an opened store.
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// Builds the emulator's HTTP API.
///
/// Every response carries the request's `x-ms-correlation-id` (a new one when the request has
/// none); every `/v1.0` request needs a bearer token; unknown routes answer a JSON 404.
pub fn router(state: AppState) -> Router {
    let v1 = routes::licensing::router()
        .method_not_allowed_fallback(routes::method_not_allowed)
        .fallback(routes::no_route)
        .layer(axum::middleware::from_fn(middleware::require_bearer));
    Router::new()
        .nest("/v1.0", v1)
        .fallback(routes::no_route)
        .layer(axum::middleware::from_fn(middleware::correlation_id))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve<F>(listener: TcpListener, state: AppState, shutdown: F) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(listener, router(state))
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
