//! Proxies come from the variables the caller passes (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`,
//! `NO_PROXY`), in the client's configuration or in a request, never from the process
//! environment: on Linux and macOS, PowerShell's `$env:` does not reach it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use mscommerce_core::client::Client;
use mscommerce_core::config::ClientConfig;
use mscommerce_core::protocol::{ErrorReply, Request};
use mscommerce_core::{Cancel, ErrorKind};
use serde_json::json;

/// Nothing listens on this loopback address: only a proxy can answer for it.
const UNREACHABLE: &str = "http://127.0.0.2:9";

/// The request line a proxy gets for the policy list of [`UNREACHABLE`].
const PROXIED_LINE: &str = "GET http://127.0.0.2:9/v1.0/policies HTTP/1.1";

/// The test that sets the process environment must not run beside the others.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A proxy that answers every request itself (an empty policy list) and reports the request
/// line it got; its address.
fn fake_proxy() -> (String, mpsc::Receiver<String>) {
    let proxy = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = proxy.local_addr().expect("address");
    let (seen, request_lines) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in proxy.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = seen.send(line.trim_end().to_owned());
            // Drain the headers, then answer an empty policy list.
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let body = r#"{"items":[]}"#;
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (format!("http://{address}"), request_lines)
}

fn client(variables: serde_json::Value) -> Client {
    let config = json!({ "serviceUri": UNREACHABLE, "maxAttempts": 1, "variables": variables });
    Client::new(ClientConfig::from_json(&config.to_string()).expect("config")).expect("client")
}

fn get_policies(variables: Option<serde_json::Value>) -> Request {
    let mut request = json!({ "op": "getPolicies", "token": "t" });
    if let Some(variables) = variables {
        request["variables"] = variables;
    }
    Request::from_json(&request.to_string()).expect("request")
}

fn nothing_seen(request_lines: &mpsc::Receiver<String>) -> bool {
    request_lines
        .recv_timeout(Duration::from_millis(300))
        .is_err()
}

#[test]
fn requests_go_through_the_proxy_named_by_the_clients_variables() {
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (proxy, request_lines) = fake_proxy();
    let client = client(json!({ "HTTP_PROXY": proxy }));

    let policies = client
        .invoke(&get_policies(None), &Cancel::new())
        .expect("answered by the proxy");

    assert_eq!(policies, json!([]));
    assert_eq!(request_lines.recv().expect("a request"), PROXIED_LINE);
}

#[test]
fn a_requests_variables_replace_the_clients_and_no_proxy_bypasses_the_proxy() {
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (proxy, request_lines) = fake_proxy();
    let client = client(json!({}));

    // Set in the session after the client was made: the request carries it.
    let proxied = json!({ "http_proxy": proxy });
    client
        .invoke(&get_policies(Some(proxied.clone())), &Cancel::new())
        .expect("answered by the proxy");
    assert_eq!(request_lines.recv().expect("a request"), PROXIED_LINE);

    // A later request without variables keeps what the last one carried.
    client
        .invoke(&get_policies(None), &Cancel::new())
        .expect("answered by the proxy again");
    assert_eq!(request_lines.recv().expect("a request"), PROXIED_LINE);

    // NO_PROXY names the service's host: the request goes straight there, and nothing answers.
    let bypassed = json!({ "HTTP_PROXY": proxy, "NO_PROXY": "localhost,127.0.0.2" });
    let error = client
        .invoke(&get_policies(Some(bypassed)), &Cancel::new())
        .expect_err("nothing listens on the service's address");
    assert_eq!(error.kind(), ErrorKind::Network, "{}", error.message());
    assert!(nothing_seen(&request_lines), "the proxy was used");

    // And without any proxy variable, no proxy at all.
    let error = client
        .invoke(&get_policies(Some(json!({}))), &Cancel::new())
        .expect_err("nothing listens on the service's address");
    assert_eq!(error.kind(), ErrorKind::Network, "{}", error.message());
    assert!(nothing_seen(&request_lines), "the proxy was used");
}

#[test]
fn a_proxy_whose_url_holds_a_password_never_shows_it() {
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // A proxy on a port nothing listens on: connecting to it fails.
    let client = client(json!({ "HTTP_PROXY": "http://admin:hunter2@127.0.0.1:9" }));

    let error = client
        .invoke(&get_policies(None), &Cancel::new())
        .expect_err("the proxy does not answer");

    assert_eq!(error.kind(), ErrorKind::Network, "{}", error.message());
    assert!(!error.message().contains("hunter2"), "{}", error.message());
    let reply = serde_json::to_string(&ErrorReply::from(&error)).expect("encode");
    assert!(!reply.contains("hunter2"), "{reply}");
}

// Regression: reqwest read HTTP_PROXY from the native environment, which PowerShell's `$env:`
// does not change on Linux, so a proxy set in the session was ignored and one removed in it was
// still used. Windows and macOS keep the system proxy when no variable is passed, and reqwest
// reads the environment as part of it there.
#[cfg(not(any(windows, target_os = "macos")))]
#[test]
fn a_proxy_in_the_native_environment_that_was_not_passed_is_not_used() {
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (proxy, request_lines) = fake_proxy();
    // SAFETY (of the test): the other tests of this binary wait for SERIAL, and nothing of this
    // one reads the environment while it is set.
    unsafe {
        std::env::set_var("HTTP_PROXY", &proxy);
        std::env::set_var("ALL_PROXY", &proxy);
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
    }
    let client = client(json!({}));

    let outcome = client.invoke(&get_policies(None), &Cancel::new());

    unsafe {
        std::env::remove_var("HTTP_PROXY");
        std::env::remove_var("ALL_PROXY");
    }
    let error = outcome.expect_err("nothing listens on the service's address");
    assert_eq!(error.kind(), ErrorKind::Network, "{}", error.message());
    assert!(
        nothing_seen(&request_lines),
        "the native environment's proxy was used"
    );
}
