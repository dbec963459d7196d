//! Sign-in through the emulator's authority, with the emulator in this process: the device code
//! flow end to end as a user completes it, the session used for licensing calls, refresh before
//! expiry, and cancellation.

use std::time::{Duration, Instant};

use mscommerce_core::client::Client;
use mscommerce_core::config::ClientConfig;
use mscommerce_core::policy::Request;
use mscommerce_core::{Cancel, ErrorKind};
use mscommerce_emulator::settings::Settings;
use mscommerce_emulator::store::Store;
use mscommerce_emulator::{serve, AppState};

/// The emulator on its own runtime (the core blocks on its own), stopped on drop.
struct Emulator {
    base: String,
    runtime: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _data: tempfile::TempDir,
}

impl Emulator {
    fn start(settings: Settings) -> Emulator {
        let data = tempfile::tempdir().expect("temp dir");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let base = runtime.block_on(async {
            let store = Store::open(data.path()).expect("store");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let base = mscommerce_emulator::base_uri(listener.local_addr().expect("address"));
            let state = AppState::open(store, settings, base.clone())
                .await
                .expect("state");
            tokio::spawn(serve(listener, state, async {
                let _ = stopped.await;
            }));
            base
        });
        Emulator {
            base,
            runtime,
            stop: Some(stop),
            _data: data,
        }
    }

    /// Does what the user does on the device login page: enters the code and approves as `user`.
    fn approve(&self, user_code: &str, user: &str) {
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
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn fast_device_flow() -> Settings {
    Settings {
        device_code_interval_s: 1,
        ..Settings::default()
    }
}

fn client(emulator: &Emulator) -> Client {
    let config = serde_json::json!({ "serviceUri": emulator.base }).to_string();
    Client::new(ClientConfig::from_json(&config).expect("config")).expect("client")
}

fn connect_request(emulator: &Emulator, operation_id: u64) -> Request {
    let json = serde_json::json!({
        "op": "connect", "flow": "deviceCode", "operationId": operation_id,
        "authorityUri": emulator.base, "tenantId": "organizations",
    });
    Request::from_json(&json.to_string()).expect("request")
}

/// Collects the warning lines of one operation; the device code message is one.
fn capture_warnings(operation_id: u64) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = lines.clone();
    mscommerce_core::log::set_log_receiver(Some(std::sync::Arc::new(
        move |op, level, text: &str| {
            if op == operation_id && level == mscommerce_core::log::Level::Warning {
                sink.lock().unwrap().push(text.to_owned());
            }
        },
    )));
    lines
}

fn user_code(message: &str) -> String {
    message
        .split("enter the code ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a code in the message")
        .to_owned()
}

fn wait_for_message(lines: &std::sync::Mutex<Vec<String>>) -> String {
    let started = Instant::now();
    loop {
        if let Some(line) = lines.lock().unwrap().first().cloned() {
            return line;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no device code message"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The log receiver is process-wide: tests that capture lines take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

// One test drives the whole flow: the log receiver is process-wide, so flows in parallel tests
// would see each other's lines.
#[test]
fn device_code_sign_in_connects_calls_the_service_and_can_be_cancelled() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let emulator = Emulator::start(fast_device_flow());
    let client = client(&emulator);

    // Before connecting, a call without -Token is the contract's not-connected error.
    let err = client
        .invoke(
            &Request::from_json(r#"{"op":"getPolicies"}"#).unwrap(),
            &Cancel::new(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotConnected);

    let lines = capture_warnings(501);
    let connection = std::thread::scope(|scope| {
        let connecting =
            scope.spawn(|| client.invoke(&connect_request(&emulator, 501), &Cancel::new()));
        let message = wait_for_message(&lines);
        assert!(
            message.starts_with("To sign in, use a web browser to open the page "),
            "{message}"
        );
        emulator.approve(&user_code(&message), "admin@contoso.onmicrosoft.com");
        connecting.join().expect("connect thread")
    })
    .expect("device code sign-in");
    assert_eq!(connection["connected"], true);
    assert_eq!(connection["account"], "admin@contoso.onmicrosoft.com");
    assert_eq!(
        connection["tenantId"],
        "00000000-0000-0000-0000-0000000c0de1"
    );
    assert!(
        !connection.to_string().contains("eyJ"),
        "the connection must never hold a token"
    );

    // The session now authorizes calls without -Token.
    let policies = client
        .invoke(
            &Request::from_json(r#"{"op":"getPolicies"}"#).unwrap(),
            &Cancel::new(),
        )
        .expect("policies");
    assert_eq!(policies[0]["PolicyId"], "AllowSelfServicePurchase");

    // A second sign-in that nobody completes stops promptly when cancelled.
    let lines = capture_warnings(502);
    let cancel = Cancel::new();
    let started = Instant::now();
    let outcome = std::thread::scope(|scope| {
        let connecting = scope.spawn(|| client.invoke(&connect_request(&emulator, 502), &cancel));
        wait_for_message(&lines);
        cancel.cancel();
        connecting.join().expect("connect thread")
    });
    assert_eq!(outcome.unwrap_err().kind(), ErrorKind::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(10));
    mscommerce_core::log::set_log_receiver(None);

    // The first session is still connected after the cancelled attempt.
    client
        .invoke(
            &Request::from_json(r#"{"op":"getPolicies"}"#).unwrap(),
            &Cancel::new(),
        )
        .expect("still connected");
}

#[test]
fn a_token_about_to_expire_is_refreshed_before_the_call() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Tokens that live 60 s are inside the refresh margin from the start: every call refreshes.
    let emulator = Emulator::start(Settings {
        token_lifetime_s: 60,
        ..fast_device_flow()
    });
    let client = client(&emulator);
    let lines = capture_warnings(601);
    let connected = std::thread::scope(|scope| {
        let connecting =
            scope.spawn(|| client.invoke(&connect_request(&emulator, 601), &Cancel::new()));
        let message = wait_for_message(&lines);
        emulator.approve(&user_code(&message), "billing@contoso.onmicrosoft.com");
        connecting.join().expect("connect thread")
    });
    mscommerce_core::log::set_log_receiver(None);
    let first = connected.expect("connected")["expiresOn"]
        .as_u64()
        .expect("expiresOn");
    std::thread::sleep(Duration::from_millis(1100));
    client
        .invoke(
            &Request::from_json(r#"{"op":"getPolicies"}"#).unwrap(),
            &Cancel::new(),
        )
        .expect("a call with a refreshed token");
    let after = client
        .invoke(
            &Request::from_json(r#"{"op":"getConnection"}"#).unwrap(),
            &Cancel::new(),
        )
        .expect("connection");
    assert!(
        after["expiresOn"].as_u64().expect("expiresOn") > first,
        "the token was not refreshed"
    );
}
