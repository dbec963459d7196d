//! Starts the emulator in-process on `127.0.0.1:0` over a temporary data directory, and stops it
//! when dropped.
#![allow(dead_code)] // Each test binary uses part of this.

use std::io;
use std::time::Duration;

use mscommerce_emulator::store::Store;
use mscommerce_emulator::{serve, AppState};
use reqwest::header::CONTENT_TYPE;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::Value;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The policy every test reads.
pub const POLICY: &str = "AllowSelfServicePurchase";

/// A running emulator.
pub struct TestServer {
    base: String,
    store: Store,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
    dir: Option<TempDir>,
}

impl TestServer {
    /// Starts an emulator over a new, empty data directory.
    pub async fn start() -> Self {
        Self::start_in(tempfile::tempdir().expect("create a temporary directory")).await
    }

    /// Starts an emulator over `dir`, keeping whatever state it holds.
    pub async fn start_in(dir: TempDir) -> Self {
        let store = Store::open(dir.path()).expect("open the store");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, AppState::new(store.clone()), async {
            let _ = stopped.await;
        }));
        Self {
            base,
            store,
            client: reqwest::Client::new(),
            shutdown: Some(shutdown),
            task: Some(task),
            dir: Some(dir),
        }
    }

    /// The store the server uses.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A GET of `path` with no headers added.
    pub fn get_raw(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    /// A GET of `path` with a bearer token.
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.get_raw(path).bearer_auth("test-token")
    }

    /// GETs `path` with a bearer token; returns the status and the JSON body (checking that it
    /// is declared as JSON).
    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        json(self.get(path).send().await.expect("send")).await
    }

    /// Stops the server gracefully and hands back its data directory.
    pub async fn stop(mut self) -> TempDir {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("the server stops within 10 s")
                .expect("the server task does not panic")
                .expect("the server stops cleanly");
        }
        self.dir.take().expect("the data directory")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The status and JSON body of `response`, checking the body is declared as JSON.
pub async fn json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "content type {content_type:?} for {status}"
    );
    let body = response.json().await.expect("a JSON body");
    (status, body)
}
