//! Sign-in through the emulator's authority, with the emulator in this process: the device code
//! and browser flows end to end as a user completes them (the browser one in headless Chromium),
//! the session used for licensing calls, refresh before expiry, cancellation, the token cache
//! read by a second process, and Disconnect forgetting the account.

mod chromium;
mod harness;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use harness::Emulator;
use mscommerce_core::client::Client;
use mscommerce_core::config::ClientConfig;
use mscommerce_core::protocol::Request;
use mscommerce_core::{Cancel, ErrorKind};
use mscommerce_emulator::settings::Settings;

fn fast_device_flow() -> Settings {
    Settings {
        device_code_interval_s: 1,
        ..Settings::default()
    }
}

fn client(emulator: &Emulator) -> Client {
    let config = serde_json::json!({
        "serviceUri": emulator.base, "authorityUri": emulator.base,
        "variables": harness::session_variables(),
    })
    .to_string();
    Client::new(ClientConfig::from_json(&config).expect("config")).expect("client")
}

fn connect_request(operation_id: u64) -> Request {
    request(serde_json::json!({
        "op": "connect", "flow": "deviceCode", "operationId": operation_id,
        "tenantId": "organizations",
    }))
}

fn browser_request(operation_id: u64, extra: serde_json::Value) -> Request {
    let mut json = serde_json::json!({
        "op": "connect", "flow": "browser", "operationId": operation_id,
    });
    if let (Some(json), Some(extra)) = (json.as_object_mut(), extra.as_object()) {
        json.extend(extra.clone());
    }
    request(json)
}

/// A request as the shim sends it: with the variables of the environment as they are now, so a
/// variable set after the client was made (the fake browser's) counts.
fn request(mut json: serde_json::Value) -> Request {
    json["variables"] = harness::session_variables();
    Request::from_json(&json.to_string()).expect("request")
}

/// Points the token cache of this process (and of the processes it starts) at a fresh folder,
/// so tests never touch the user's own cache. Tests take turns (SERIAL), so one at a time. The
/// core reads neither variable itself: [`client`] and [`request`] pass them.
fn isolated_cache() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("cache dir");
    std::env::set_var("MSCOMMERCE_TOKEN_CACHE", "file");
    std::env::set_var("MSCOMMERCE_TOKEN_CACHE_DIR", dir.path());
    dir
}

fn cache_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| entries.count())
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

/// The log receiver and the cache and browser variables are process-wide: tests take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// One test's turn: the process-wide things to itself, a token cache folder of its own, and an
/// emulator.
struct Turn {
    emulator: Emulator,
    cache: tempfile::TempDir,
    _serial: std::sync::MutexGuard<'static, ()>,
}

fn take_turn(settings: Settings) -> Turn {
    let serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Turn {
        cache: isolated_cache(),
        emulator: Emulator::start_with_settings(settings),
        _serial: serial,
    }
}

// One test drives the whole flow: the log receiver is process-wide, so flows in parallel tests
// would see each other's lines.
#[test]
fn device_code_sign_in_connects_calls_the_service_and_can_be_cancelled() {
    let turn = take_turn(fast_device_flow());
    let emulator = &turn.emulator;
    let client = client(emulator);

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
        let connecting = scope.spawn(|| client.invoke(&connect_request(501), &Cancel::new()));
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
    assert_eq!(policies[0]["policyId"], "AllowSelfServicePurchase");

    // A second sign-in that nobody completes stops promptly when cancelled.
    let lines = capture_warnings(502);
    let cancel = Cancel::new();
    let started = Instant::now();
    // Process scope: the cache (which now holds the first sign-in) is not read.
    let process_only = request(serde_json::json!({
        "op": "connect", "flow": "deviceCode", "operationId": 502, "contextScope": "Process",
    }));
    let outcome = std::thread::scope(|scope| {
        let connecting = scope.spawn(|| client.invoke(&process_only, &cancel));
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
    // Tokens that live 60 s are inside the refresh margin from the start: every call refreshes.
    let turn = take_turn(Settings {
        token_lifetime_s: 60,
        ..fast_device_flow()
    });
    let emulator = &turn.emulator;
    let client = client(emulator);
    let lines = capture_warnings(601);
    let connected = std::thread::scope(|scope| {
        let connecting = scope.spawn(|| client.invoke(&connect_request(601), &Cancel::new()));
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

/// Stands in for the system browser: `MSCOMMERCE_BROWSER` names a script that writes the
/// sign-in URL it is given to a file.
struct FakeBrowser {
    dir: tempfile::TempDir,
}

impl FakeBrowser {
    #[cfg(unix)]
    fn install() -> FakeBrowser {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("browser dir");
        let script = dir.path().join("open-browser");
        let url = dir.path().join("url");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s' \"$1\" > '{0}.tmp' && mv '{0}.tmp' '{0}'\n",
                url.display()
            ),
        )
        .expect("script");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::env::set_var("MSCOMMERCE_BROWSER", &script);
        FakeBrowser { dir }
    }

    fn url_file(&self) -> PathBuf {
        self.dir.path().join("url")
    }

    fn opened(&self) -> bool {
        self.url_file().is_file()
    }

    /// The URL the sign-in opened.
    fn wait_for_url(&self) -> url::Url {
        let started = Instant::now();
        while !self.opened() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no browser was opened"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        url::Url::parse(&std::fs::read_to_string(self.url_file()).expect("url")).expect("a URL")
    }
}

impl Drop for FakeBrowser {
    fn drop(&mut self) {
        std::env::remove_var("MSCOMMERCE_BROWSER");
    }
}

/// The redirect URI and state the sign-in page was opened with.
fn redirect_and_state(authorize: &url::Url) -> (String, String) {
    let pairs: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    (pairs["redirect_uri"].clone(), pairs["state"].clone())
}

/// GETs `url` (the loopback listener), returning the status and page.
fn get(emulator: &Emulator, url: &str) -> Result<(u16, String), reqwest::Error> {
    emulator.runtime.block_on(async {
        let response = reqwest::Client::new().get(url).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    })
}

#[cfg(unix)]
#[test]
fn browser_sign_in_in_headless_chromium_connects_and_keeps_the_account() {
    let Some(binary) = chromium::binary() else {
        println!(
            "SKIPPED browser_sign_in_in_headless_chromium_connects_and_keeps_the_account: no \
             Chromium (install it, e.g. `apt-get install -y chromium`, or set CHROMIUM)"
        );
        return;
    };
    let turn = take_turn(Settings::default());
    let (emulator, cache) = (&turn.emulator, &turn.cache);
    let client = client(emulator);
    let browser = FakeBrowser::install();
    let connection = std::thread::scope(|scope| {
        let connecting = scope.spawn(|| {
            client.invoke(
                &browser_request(
                    701,
                    serde_json::json!({ "loginHint": "admin@contoso.onmicrosoft.com" }),
                ),
                &Cancel::new(),
            )
        });
        let authorize = browser.wait_for_url();
        assert!(
            authorize.as_str().starts_with(&format!(
                "{}/organizations/oauth2/v2.0/authorize?",
                emulator.base
            )),
            "{authorize}"
        );
        let shown = emulator.runtime.block_on(async {
            let mut chromium = chromium::Browser::launch(&binary).await;
            let page = chromium.open(authorize.as_str()).await;
            chromium
                .wait_for(
                    &page,
                    "!!document.querySelector('input[name=user][value=\"admin@contoso.onmicrosoft.com\"]:checked')",
                )
                .await;
            chromium
                .eval(
                    &page,
                    "document.querySelector('button[value=approve]').click(); true",
                )
                .await;
            chromium
                .wait_for(
                    &page,
                    "document.body && document.body.innerText.includes('You are signed in') \
                     && location.href",
                )
                .await
        });
        let shown = shown.as_str().expect("the result page's URL").to_owned();
        assert!(
            shown.starts_with("http://localhost:") && shown.contains("/m365/commerce?code="),
            "the browser came back to the loopback listener: {shown}"
        );
        connecting.join().expect("connect thread")
    })
    .expect("browser sign-in");
    assert_eq!(connection["flow"], "Browser");
    assert_eq!(connection["account"], "admin@contoso.onmicrosoft.com");
    assert_eq!(connection["contextScope"], "CurrentUser");
    let policies = client
        .invoke(
            &request(serde_json::json!({"op": "getPolicies"})),
            &Cancel::new(),
        )
        .expect("the session authorizes calls");
    assert_eq!(policies[0]["policyId"], "AllowSelfServicePurchase");
    assert_eq!(cache_files(cache.path()), 1, "the account is kept");
}

/// Signs `client` in with a device code as `user`, completing the sign-in as the user would.
fn device_sign_in(
    emulator: &Emulator,
    client: &Client,
    user: &str,
    operation_id: u64,
) -> serde_json::Value {
    let lines = capture_warnings(operation_id);
    let connected = std::thread::scope(|scope| {
        let connecting =
            scope.spawn(|| client.invoke(&connect_request(operation_id), &Cancel::new()));
        let message = wait_for_message(&lines);
        emulator.approve(&user_code(&message), user);
        connecting.join().expect("connect thread")
    });
    mscommerce_core::log::set_log_receiver(None);
    connected.expect("device sign-in")
}

#[cfg(unix)]
#[test]
fn a_second_process_reconnects_from_the_cache_and_disconnect_forgets_the_account() {
    let turn = take_turn(fast_device_flow());
    let emulator = &turn.emulator;
    let cache = &turn.cache;
    let first = client(emulator);
    device_sign_in(emulator, &first, "billing@contoso.onmicrosoft.com", 801);
    assert_eq!(cache_files(cache.path()), 1);

    // Another process: this test binary again, running only the child test below.
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_process_connects_from_the_cache",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_AUTHORITY, &emulator.base)
        .env("MSCOMMERCE_BROWSER", "/nonexistent/no-browser-may-open")
        .output()
        .expect("child process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|line| line.split_once("CHILD-CONNECTION ").map(|(_, json)| json))
        .unwrap_or_else(|| panic!("the child reported no connection: {stdout}"));
    let connection: serde_json::Value = serde_json::from_str(line).expect("JSON");
    assert_eq!(connection["flow"], "TokenCache");
    assert_eq!(connection["account"], "billing@contoso.onmicrosoft.com");

    // The child's refresh rotated the refresh token (each works once here, as the emulator
    // enforces) and kept the new one: yet another client reconnects silently with it.
    let third = client(emulator);
    let connection = third
        .invoke(
            &browser_request(803, serde_json::json!({ "timeoutSeconds": 5 })),
            &Cancel::new(),
        )
        .expect("silent reconnect with the rotated token");
    assert_eq!(connection["flow"], "TokenCache");

    // Disconnect -ForgetAccount: the session ends and the cache forgets the account, so the
    // next connect prompts again.
    let gone = third
        .invoke(
            &request(serde_json::json!({"op": "disconnect", "forget": true})),
            &Cancel::new(),
        )
        .expect("disconnect");
    assert_eq!(gone["forgotten"], true);
    assert_eq!(cache_files(cache.path()), 0);
    let err = third
        .invoke(
            &request(serde_json::json!({"op": "getPolicies"})),
            &Cancel::new(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotConnected);
    let browser = FakeBrowser::install();
    let cancel = Cancel::new();
    let outcome = std::thread::scope(|scope| {
        let connecting =
            scope.spawn(|| third.invoke(&browser_request(804, serde_json::json!({})), &cancel));
        browser.wait_for_url();
        cancel.cancel();
        connecting.join().expect("connect thread")
    });
    assert_eq!(outcome.unwrap_err().kind(), ErrorKind::Cancelled);
}

/// Set by the parent test above; without it the child test does nothing.
const CHILD_AUTHORITY: &str = "MSCOMMERCE_TEST_CHILD_AUTHORITY";

#[test]
fn child_process_connects_from_the_cache() {
    let Ok(base) = std::env::var(CHILD_AUTHORITY) else {
        return;
    };
    let config = serde_json::json!({
        "serviceUri": base, "authorityUri": base, "variables": harness::session_variables(),
    })
    .to_string();
    let client = Client::new(ClientConfig::from_json(&config).expect("config")).expect("client");
    let warnings = capture_warnings(802);
    // A browser sign-in that may not prompt: no browser can open and it gives up after 5 s.
    let connection = client
        .invoke(
            &browser_request(802, serde_json::json!({ "timeoutSeconds": 5 })),
            &Cancel::new(),
        )
        .expect("connected from the cache");
    assert!(
        warnings.lock().unwrap().is_empty(),
        "{:?}",
        warnings.lock().unwrap()
    );
    client
        .invoke(
            &request(serde_json::json!({"op": "getPolicies"})),
            &Cancel::new(),
        )
        .expect("the cached session authorizes calls");
    println!("CHILD-CONNECTION {connection}");
}

#[cfg(unix)]
#[test]
fn a_browser_answer_with_another_state_fails_the_sign_in_and_closes_the_listener() {
    let turn = take_turn(Settings::default());
    let emulator = &turn.emulator;
    let client = client(emulator);
    let browser = FakeBrowser::install();
    let (outcome, redirect) = std::thread::scope(|scope| {
        let connecting = scope
            .spawn(|| client.invoke(&browser_request(901, serde_json::json!({})), &Cancel::new()));
        let (redirect, _state) = redirect_and_state(&browser.wait_for_url());
        // Another path is not the redirect: 404, and the listener keeps waiting.
        let base = redirect.split("/m365").next().expect("origin").to_owned();
        let (status, _) = get(emulator, &format!("{base}/favicon.ico")).expect("listener");
        assert_eq!(status, 404);
        let (status, page) =
            get(emulator, &format!("{redirect}?code=forged&state=forged")).expect("listener");
        assert_eq!(status, 400);
        assert!(page.contains("Sign-in failed"), "{page}");
        (connecting.join().expect("connect thread"), redirect)
    });
    let err = outcome.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SignInFailed);
    assert!(
        err.message().starts_with("Unable to establish connection"),
        "{}",
        err.message()
    );
    assert!(err.message().contains("state"), "{}", err.message());
    assert!(
        get(emulator, &redirect).is_err(),
        "the listener accepts one answer only"
    );
}

#[cfg(unix)]
#[test]
fn a_declined_browser_sign_in_says_so() {
    let turn = take_turn(Settings::default());
    let emulator = &turn.emulator;
    let client = client(emulator);
    let browser = FakeBrowser::install();
    let outcome = std::thread::scope(|scope| {
        let connecting = scope
            .spawn(|| client.invoke(&browser_request(902, serde_json::json!({})), &Cancel::new()));
        let (redirect, state) = redirect_and_state(&browser.wait_for_url());
        let answer = format!(
            "{redirect}?error=access_denied&error_description=AADSTS65004%3A+declined&state={state}"
        );
        let (status, page) = get(emulator, &answer).expect("listener");
        assert_eq!(status, 400);
        assert!(page.contains("declined"), "{page}");
        connecting.join().expect("connect thread")
    });
    let err = outcome.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SignInFailed);
    assert!(err.message().contains("declined"), "{}", err.message());
}

#[cfg(unix)]
#[test]
fn a_browser_sign_in_nobody_completes_times_out() {
    let turn = take_turn(Settings::default());
    let emulator = &turn.emulator;
    let client = client(emulator);
    let _browser = FakeBrowser::install();
    let started = Instant::now();
    let err = client
        .invoke(
            &browser_request(903, serde_json::json!({ "timeoutSeconds": 1 })),
            &Cancel::new(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SignInFailed);
    assert!(
        err.message().contains("within 1 seconds"),
        "{}",
        err.message()
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[cfg(unix)]
#[test]
fn a_cancelled_browser_sign_in_stops_promptly() {
    let turn = take_turn(Settings::default());
    let emulator = &turn.emulator;
    let client = client(emulator);
    let browser = FakeBrowser::install();
    let cancel = Cancel::new();
    let (outcome, elapsed, redirect) = std::thread::scope(|scope| {
        let connecting =
            scope.spawn(|| client.invoke(&browser_request(904, serde_json::json!({})), &cancel));
        let (redirect, _) = redirect_and_state(&browser.wait_for_url());
        let started = Instant::now();
        cancel.cancel();
        let outcome = connecting.join().expect("connect thread");
        (outcome, started.elapsed(), redirect)
    });
    assert_eq!(outcome.unwrap_err().kind(), ErrorKind::Cancelled);
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert!(get(emulator, &redirect).is_err(), "the listener is closed");
}

/// A `connect` of contoso's application `app_id` with its secret.
fn secret_connect(app_id: &str, secret: &str) -> Request {
    request(serde_json::json!({
        "op": "connect", "flow": "clientSecret", "tenantId": "contoso.onmicrosoft.com",
        "clientId": app_id, "clientSecret": secret,
    }))
}

/// Registers an application of contoso with `roles` and a secret; answers its app id.
fn add_app(emulator: &Emulator, name: &str, roles: &[&str], secret: &str) -> String {
    let app = emulator.admin(
        "POST",
        "/apps",
        Some(serde_json::json!({
            "displayName": name, "tenant": "contoso.onmicrosoft.com", "roles": roles,
            "secrets": [secret],
        })),
    );
    app["appId"].as_str().expect("app id").to_owned()
}

#[test]
fn an_application_signs_in_with_its_secret_and_updates_with_its_permission() {
    let emulator = Emulator::start();
    let secret = "app-connect-secret-0123456789abcdef";
    let app_id = add_app(
        &emulator,
        "Automation",
        &["Policy.ReadWrite.AllowSelfServicePurchase"],
        secret,
    );
    let client = client(&emulator);

    let connection = client
        .invoke(&secret_connect(&app_id, secret), &Cancel::new())
        .expect("connected");

    assert_eq!(connection["authType"], "AppOnly");
    assert_eq!(connection["appId"], app_id.as_str());
    assert!(connection["account"].is_null());
    assert!(connection["expiresOn"].as_u64().is_some());
    assert!(
        !connection.to_string().contains(secret),
        "the connection never shows the secret"
    );
    client
        .invoke(
            &request(serde_json::json!({
                "op": "updateProductPolicy", "policyId": harness::POLICY,
                "productId": harness::PRODUCT, "value": "Disabled",
            })),
            &Cancel::new(),
        )
        .expect("updated with the application's permission");
    assert_eq!(emulator.product_value(harness::PRODUCT), "Disabled");
}

#[test]
fn an_application_with_the_read_permission_reads_and_is_refused_a_change_naming_the_permission() {
    let emulator = Emulator::start();
    let secret = "app-reader-secret-0123456789abcdef";
    let app_id = add_app(
        &emulator,
        "Report",
        &["Policy.Read.AllowSelfServicePurchase"],
        secret,
    );
    let client = client(&emulator);
    client
        .invoke(&secret_connect(&app_id, secret), &Cancel::new())
        .expect("connected");

    client
        .invoke(
            &request(serde_json::json!({"op": "getPolicies"})),
            &Cancel::new(),
        )
        .expect("a read");
    let error = client
        .invoke(
            &request(serde_json::json!({
                "op": "updateProductPolicy", "policyId": harness::POLICY,
                "productId": harness::PRODUCT, "value": "Disabled",
            })),
            &Cancel::new(),
        )
        .expect_err("no write permission");

    assert_eq!(error.http_status(), Some(403));
    assert!(
        error
            .message()
            .contains("needs the application permission Policy.ReadWrite.AllowSelfServicePurchase")
            && error.message().contains("administrator's consent"),
        "the module's own advice, whatever the service's body says: {}",
        error.message()
    );
    assert_eq!(emulator.product_value(harness::PRODUCT), "Enabled");
}

#[test]
fn a_managed_identity_signs_in_through_the_endpoint_the_variables_name() {
    let emulator = Emulator::start();
    emulator.admin(
        "POST",
        "/apps",
        Some(serde_json::json!({
            "displayName": "Runbook", "tenant": "contoso.onmicrosoft.com",
            "roles": ["Policy.ReadWrite.AllowSelfServicePurchase"], "managedIdentity": "system",
        })),
    );
    let identity = emulator.admin("GET", "/identity", None);
    let client = client(&emulator);
    let mut variables = harness::session_variables();
    variables["IDENTITY_ENDPOINT"] = identity["identityEndpoint"].clone();
    variables["IDENTITY_HEADER"] = identity["identityHeader"].clone();
    let connect = serde_json::json!({
        "op": "connect", "flow": "managedIdentity", "variables": variables,
    });

    let connection = client
        .invoke(
            &Request::from_json(&connect.to_string()).expect("request"),
            &Cancel::new(),
        )
        .expect("connected");

    assert_eq!(connection["authType"], "ManagedIdentity");
    assert_eq!(connection["flow"], "AppService");
}

#[test]
fn a_wrong_secret_relays_the_authority_code_and_keeps_the_session_there_was() {
    let emulator = Emulator::start();
    let secret = "app-keep-secret-0123456789abcdef";
    let app_id = add_app(
        &emulator,
        "Automation",
        &["Policy.ReadWrite.AllowSelfServicePurchase"],
        secret,
    );
    let client = client(&emulator);
    let connect = |secret: &str| client.invoke(&secret_connect(&app_id, secret), &Cancel::new());
    connect(secret).expect("connected");

    let error = connect("a-wrong-secret-0123456789abcdef").expect_err("refused");

    assert!(
        error
            .message()
            .starts_with("Unable to establish connection")
            && error.message().contains("AADSTS7000215"),
        "{}",
        error.message()
    );
    let connection = client
        .invoke(
            &request(serde_json::json!({"op": "getConnection"})),
            &Cancel::new(),
        )
        .expect("connection");
    assert_eq!(connection["appId"], app_id.as_str());
}
