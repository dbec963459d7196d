//! In-process harness of the reliability, abuse and sign-in tests: the emulator, started on
//! 127.0.0.1:0 on its own runtime (the core blocks on its own), with tokens minted from its store and faults
//! set on its live state (what `PUT /admin/faults` does), stopped when dropped; and a capture of
//! the core's log lines by operation id.

#![allow(dead_code)]

use std::sync::{Mutex, OnceLock};

use mscommerce_emulator::faults::{FaultConfig, Injected};
use mscommerce_emulator::settings::Settings;
use mscommerce_emulator::store::Store;
use mscommerce_emulator::tls::Tls;
use mscommerce_emulator::{clock, serve, serve_tls, tokens, AppState};

/// contoso's Global Administrator: may read and write.
pub const ADMIN: &str = "admin@contoso.onmicrosoft.com";

/// A product of the seeded catalogue.
pub const PRODUCT: &str = "CFQ7TTC0N8SS";

/// The policy of the contract.
pub const POLICY: &str = "AllowSelfServicePurchase";

/// A client of `base` with backoff configured down to milliseconds (so retrying tests stay
/// fast), and `extra` settings on top.
pub fn fast_client(base: &str, extra: serde_json::Value) -> mscommerce_core::client::Client {
    let mut config = serde_json::json!({
        "serviceUri": base,
        "retryBaseDelaySeconds": 0.01,
        "retryMaxDelaySeconds": 0.05,
    });
    if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
        config.extend(extra.clone());
    }
    let config =
        mscommerce_core::config::ClientConfig::from_json(&config.to_string()).expect("config");
    mscommerce_core::client::Client::new(config).expect("client")
}

/// The variables the core uses, read from this process's environment the way the shim reads
/// them from the PowerShell session's, for the `variables` of a configuration or request.
pub fn session_variables() -> serde_json::Value {
    serde_json::Value::Object(
        std::env::vars()
            .filter(|(name, _)| mscommerce_core::settings::is_used(name))
            .map(|(name, value)| (name, serde_json::Value::String(value)))
            .collect(),
    )
}

/// A running emulator.
pub struct Emulator {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    state: AppState,
    /// The emulator's own runtime; tests may run their async helpers on it too.
    pub runtime: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _data: tempfile::TempDir,
}

impl Emulator {
    /// Starts an emulator on a fresh data directory.
    pub fn start() -> Emulator {
        Self::start_with(false, Settings::default())
    }

    /// Starts an emulator with these settings (token lifetimes, device code interval).
    pub fn start_with_settings(settings: Settings) -> Emulator {
        Self::start_with(false, settings)
    }

    /// Starts an emulator serving HTTPS with its self-signed certificate, which the core does
    /// not trust.
    pub fn start_tls() -> Emulator {
        Self::start_with(true, Settings::default())
    }

    fn start_with(tls: bool, settings: Settings) -> Emulator {
        let data = tempfile::tempdir().expect("temp dir");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (base, state) = runtime.block_on(async {
            let store = Store::open(data.path()).expect("store");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let address = listener.local_addr().expect("address");
            let scheme = if tls { "https" } else { "http" };
            let base = mscommerce_emulator::base_uri_with_scheme(address, scheme);
            let state = AppState::open(store, settings, base.clone())
                .await
                .expect("state");
            let shutdown = async {
                let _ = stopped.await;
            };
            if tls {
                let tls = Tls::load_or_create(data.path(), address.ip()).expect("certificate");
                tokio::spawn(serve_tls(listener, state.clone(), tls, shutdown));
            } else {
                tokio::spawn(serve(listener, state.clone(), shutdown));
            }
            (base, state)
        });
        Emulator {
            base,
            state,
            runtime,
            stop: Some(stop),
            _data: data,
        }
    }

    /// Does what the user does on the device login page: enters the code and approves as `user`.
    pub fn approve(&self, user_code: &str, user: &str) {
        let url = format!("{}/devicelogin", self.base);
        let status = self.runtime.block_on(async {
            let form = [
                ("user_code", user_code),
                ("user", user),
                ("action", "approve"),
            ];
            let body = form
                .iter()
                .fold(
                    url::form_urlencoded::Serializer::new(String::new()),
                    |mut s, (k, v)| {
                        s.append_pair(k, v);
                        s
                    },
                )
                .finish();
            reqwest::Client::new()
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("device login")
                .status()
        });
        assert!(status.is_success(), "device login answered {status}");
    }

    /// A valid access token of the seeded user `upn` of `tenant` (an id or a domain), living
    /// an hour.
    pub fn token_in(&self, tenant: &str, upn: &str) -> String {
        self.runtime.block_on(async {
            tokens::mint_user_token(
                self.state.store(),
                self.state.key(),
                tenant,
                upn,
                clock::now_s(),
                3600,
            )
            .await
            .expect("mint a token")
            .token
        })
    }

    /// A valid access token of the seeded user `upn` (contoso), living an hour.
    pub fn token(&self, upn: &str) -> String {
        self.token_in("contoso.onmicrosoft.com", upn)
    }

    /// Replaces the faults in effect with `json` (the body of `PUT /admin/faults`).
    pub fn set_faults(&self, json: serde_json::Value) {
        let config: FaultConfig = serde_json::from_value(json).expect("fault JSON");
        self.state.faults().set(config).expect("valid faults");
    }

    /// Calls the admin area over HTTP (`/admin` + `path`) and returns the JSON answer; a status
    /// other than 2xx fails the test.
    pub fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let url = format!("{}/admin{path}", self.base);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        self.runtime.block_on(async {
            let mut request = reqwest::Client::new().request(method, &url);
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_string());
            }
            let response = request.send().await.expect("admin request");
            let status = response.status();
            let text = response.text().await.expect("admin answer");
            assert!(status.is_success(), "{url} answered {status}: {text}");
            serde_json::from_str(&text).expect("admin JSON")
        })
    }

    /// How many licensing requests were made per `"METHOD /path"` since the counts were reset.
    pub fn request_count(&self, method_and_path: &str) -> u64 {
        self.admin("GET", "/requests", None)["requests"][method_and_path]
            .as_u64()
            .unwrap_or(0)
    }

    /// What the faults did since they were set.
    pub fn injected(&self) -> Injected {
        self.state.faults().status().injected
    }

    /// The value of `product` in contoso, read from the store.
    pub fn product_value(&self, product: &str) -> String {
        self.runtime.block_on(async {
            let tenant = self.contoso().await;
            self.state
                .store()
                .product_policy(&tenant, POLICY, product)
                .await
                .expect("store")
                .expect("the product")
                .policy_value
                .to_string()
        })
    }

    /// The correlation ids of contoso's audit rows for `item`, oldest first.
    pub fn audit_correlation_ids(&self, item: &str) -> Vec<String> {
        self.runtime.block_on(async {
            let tenant = self.contoso().await;
            let rows: Vec<String> = self
                .state
                .store()
                .audit_log(Some(&tenant))
                .await
                .expect("store")
                .into_iter()
                .filter(|row| row.item_id == item)
                .map(|row| row.correlation_id)
                .collect();
            rows
        })
    }

    async fn contoso(&self) -> mscommerce_emulator::model::TenantId {
        self.state
            .store()
            .find_tenant("contoso.onmicrosoft.com")
            .await
            .expect("store")
            .expect("contoso")
            .id
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Every log line of this test process: (operation id, level, text).
static LINES: Mutex<Vec<(u64, i32, String)>> = Mutex::new(Vec::new());

/// Installs the one process-wide receiver (once); tests tell their lines apart by operation id.
pub fn capture_logs() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        mscommerce_core::log::set_log_receiver(Some(std::sync::Arc::new(
            |operation, level, text: &str| {
                LINES.lock().unwrap_or_else(|p| p.into_inner()).push((
                    operation,
                    level as i32,
                    text.to_owned(),
                ));
            },
        )));
    });
}

/// The verbose lines of one operation, in order.
pub fn verbose_lines(operation_id: u64) -> Vec<String> {
    lines(operation_id, 4)
}

/// The lines of one operation at one level (2 warning, 4 verbose), in order.
pub fn lines(operation_id: u64, level: i32) -> Vec<String> {
    LINES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|(operation, line_level, _)| *operation == operation_id && *line_level == level)
        .map(|(_, _, text)| text.clone())
        .collect()
}
