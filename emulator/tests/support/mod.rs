//! Starts the emulator in-process on `127.0.0.1:0` over a temporary data directory, and stops it
//! when dropped; mints tokens for the seeded users straight from the store and the signing key.
#![allow(dead_code, unused_imports)] // Each test binary uses part of this.

use std::io;
use std::sync::OnceLock;
use std::time::Duration;

use mscommerce_emulator::keys::SigningKey;
use mscommerce_emulator::settings::Settings;
use mscommerce_emulator::store::Store;
use mscommerce_emulator::{base_uri, clock, serve, tokens, AppState};
use reqwest::header::CONTENT_TYPE;
use reqwest::redirect::Policy;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::Value;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod apps;
pub mod process;

pub use mscommerce_emulator::seed::{
    APP_CLIENT_ID, APP_CLIENT_SECRET, DEFAULT_TENANT_ID as CONTOSO, FABRIKAM_TENANT_ID as FABRIKAM,
    MODULE_CLIENT_ID,
};
pub use mscommerce_emulator::tokens::RESOURCE_APP_ID;

/// The policy every test reads.
pub const POLICY: &str = "AllowSelfServicePurchase";

/// contoso's Global Administrator.
pub const ADMIN: &str = "admin@contoso.onmicrosoft.com";
/// contoso's Billing Administrator.
pub const BILLING: &str = "billing@contoso.onmicrosoft.com";
/// contoso's Global Reader.
pub const READER: &str = "reader@contoso.onmicrosoft.com";
/// contoso's user without an administrator role.
pub const NO_ROLE: &str = "user@contoso.onmicrosoft.com";
/// fabrikam's Global Administrator.
pub const FABRIKAM_ADMIN: &str = "admin@fabrikam.onmicrosoft.com";

/// The scope the module asks for.
pub fn module_scope() -> String {
    format!("{RESOURCE_APP_ID}/.default offline_access")
}

/// One signing key for every in-process server: generating one takes a moment (seconds in a
/// debug build), so it is generated once and kept under the target directory for later runs.
pub fn test_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("emulator-test-key.der");
        if let Some(key) = std::fs::read(&path)
            .ok()
            .and_then(|der| SigningKey::from_der(&der).ok())
        {
            return key;
        }
        let key = SigningKey::generate().expect("generate a signing key");
        // Written aside and renamed, so a concurrent test binary never reads half a key.
        let aside = path.with_extension(format!("{}.tmp", std::process::id()));
        if std::fs::write(&aside, key.der()).is_ok() {
            let _ = std::fs::rename(&aside, &path);
        }
        key
    })
}

/// A running emulator.
pub struct TestServer {
    base: String,
    store: Store,
    key: SigningKey,
    admin_token: String,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
    dir: Option<TempDir>,
}

impl TestServer {
    /// Starts an emulator over a new, empty data directory.
    pub async fn start() -> Self {
        Self::start_with(Settings::default()).await
    }

    /// Starts an emulator with these settings over a new, empty data directory.
    pub async fn start_with(settings: Settings) -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        Self::start_in_with(dir, settings).await
    }

    /// Starts an emulator over `dir`, keeping whatever state it holds.
    pub async fn start_in(dir: TempDir) -> Self {
        Self::start_in_with(dir, Settings::default()).await
    }

    /// Starts an emulator with these settings over `dir`, keeping whatever state it holds (the
    /// shared test key is stored when the directory has none).
    pub async fn start_in_with(dir: TempDir, settings: Settings) -> Self {
        let store = Store::open(dir.path()).expect("open the store");
        let key = test_key();
        store
            .insert_signing_key_if_absent(key.kid(), key.der(), clock::now_ms())
            .await
            .expect("store the test key");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = base_uri(listener.local_addr().expect("local address"));
        let state = AppState::open(store.clone(), settings, base.clone())
            .await
            .expect("load the signing key");
        let key = state.key().clone();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));
        let mut server = Self {
            base,
            store,
            key,
            admin_token: String::new(),
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("an HTTP client"),
            shutdown: Some(shutdown),
            task: Some(task),
            dir: Some(dir),
        };
        server.admin_token = server.token(ADMIN).await;
        server
    }

    /// The store the server uses.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The key the server signs with.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The server's base URI (`http://127.0.0.1:PORT`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A valid token of contoso's Global Administrator.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The HTTP client (it does not follow redirects).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// A valid access token for the seeded user `upn`, as the module would get it.
    pub async fn token(&self, upn: &str) -> String {
        self.token_lasting(upn, 3600).await
    }

    /// An access token for `upn` that lives `lifetime_s` seconds (negative: already expired).
    pub async fn token_lasting(&self, upn: &str, lifetime_s: i64) -> String {
        let user = self
            .store
            .user_by_upn(upn)
            .await
            .expect("the store answers")
            .expect("a seeded user");
        tokens::mint_user_token(
            &self.store,
            &self.key,
            user.tenant_id.as_str(),
            upn,
            clock::now_s(),
            lifetime_s,
        )
        .await
        .expect("mint a token")
        .token
    }

    /// A GET of `path` with no headers added.
    pub fn get_raw(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    /// A GET of `path` as contoso's Global Administrator.
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.get_raw(path).bearer_auth(&self.admin_token)
    }

    /// GETs `path` as contoso's Global Administrator; returns the status and the JSON body
    /// (checking that it is declared as JSON).
    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        json(self.get(path).send().await.expect("send")).await
    }

    /// GETs `path` with `token`.
    pub async fn get_json_with(&self, token: &str, path: &str) -> (StatusCode, Value) {
        json(
            self.get_raw(path)
                .bearer_auth(token)
                .send()
                .await
                .expect("send"),
        )
        .await
    }

    /// GETs `path` as the seeded user `upn`.
    pub async fn get_json_as(&self, upn: &str, path: &str) -> (StatusCode, Value) {
        let token = self.token(upn).await;
        self.get_json_with(&token, path).await
    }

    /// PUTs `body` (as JSON) to `path` as the seeded user `upn`.
    pub async fn put_json_as(&self, upn: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        let token = self.token(upn).await;
        self.put_raw_with(&token, path, "application/json", &body.to_string())
            .await
    }

    /// PUTs `body` with this content type to `path` with `token`.
    pub async fn put_raw_with(
        &self,
        token: &str,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> (StatusCode, Value) {
        let response = self
            .client
            .put(self.url(path))
            .bearer_auth(token)
            .header(CONTENT_TYPE, content_type)
            .body(body.to_owned())
            .send()
            .await
            .expect("send");
        json(response).await
    }

    /// POSTs a form to `path`.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("send")
    }

    /// POSTs a form to the token endpoint of `tenant`; returns the status and JSON body.
    pub async fn token_request(&self, tenant: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        json(
            self.post_form(&format!("/{tenant}/oauth2/v2.0/token"), form)
                .await,
        )
        .await
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

/// The claims of a JWT, unverified (for looking at what a token says).
pub fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// The `name`/`value` pairs of the hidden inputs of a page, unescaped.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|rest| {
            let name = attribute(rest, "name")?;
            let value = attribute(rest, "value")?;
            Some((name, value))
        })
        .collect()
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = start + tag[start..].find('"')?;
    Some(
        tag[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// The query parameters of a URL.
pub fn query_of(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .expect("an absolute URL")
        .query_pairs()
        .into_owned()
        .collect()
}

/// The value of `name` among query parameters.
pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}
