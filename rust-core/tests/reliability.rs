//! Retries, timeouts and bad answers, against the emulator in this process (its fault knobs) or
//! a canned server where the emulator cannot misbehave the way a test needs. Backoff is
//! configured down to milliseconds so the suite stays fast; `Retry-After` waits are 1 second.
//! `docs/reliability.md` lists what each test pins.

mod harness;
mod support;

use std::time::{Duration, Instant};

use mscommerce_core::protocol::Request;
use mscommerce_core::{Cancel, Error, ErrorKind};
use serde_json::{json, Value};

use harness::{fast_client, Emulator, ADMIN, POLICY, PRODUCT};
use support::CannedServer;

fn request(json: Value) -> Request {
    Request::from_json(&json.to_string()).expect("request")
}

fn get_policies(token: &str) -> Request {
    request(json!({"op": "getPolicies", "token": token}))
}

fn failure(outcome: mscommerce_core::Result<Value>) -> Error {
    match outcome {
        Ok(data) => panic!("expected a failure, got {data}"),
        Err(error) => error,
    }
}

/// A port nothing listens on (bound, then released).
fn closed_port_uri() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{address}")
}

#[test]
fn throttled_request_waits_the_retry_after_then_succeeds() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    // Every 2nd request is throttled: the call's first attempt is the emulator's 2nd request.
    emulator.set_faults(json!({"throttle": {"everyNth": 2, "retryAfterSeconds": 1}}));
    let client = fast_client(&emulator.base, json!({}));
    client
        .invoke(&get_policies(&token), &Cancel::new())
        .expect("first call");
    let started = Instant::now();
    let policies = client
        .invoke(&get_policies(&token), &Cancel::new())
        .expect("the throttled call succeeds on its retry");
    assert_eq!(policies[0]["policyId"], POLICY);
    assert_eq!(emulator.injected().throttled, 1);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "the Retry-After of 1 second was not honoured: {:?}",
        started.elapsed()
    );
}

#[test]
fn server_errors_500_502_503_504_are_retried_until_the_service_answers() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    let client = fast_client(&emulator.base, json!({}));
    for status in [500, 502, 503, 504] {
        emulator.set_faults(json!({"errors": {"status": status, "next": 2}}));
        let outcome = client.invoke(&get_policies(&token), &Cancel::new());
        assert!(outcome.is_ok(), "{status}: {outcome:?}");
        assert_eq!(emulator.injected().errors, 2, "{status}");
    }
}

#[test]
fn dropped_connection_is_retried() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    emulator.set_faults(json!({"drop": {"next": 1}}));
    let outcome =
        fast_client(&emulator.base, json!({})).invoke(&get_policies(&token), &Cancel::new());
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(emulator.injected().dropped, 1);
}

#[test]
fn refused_connection_is_retried_then_fails_naming_attempts_and_correlation_id() {
    let client = fast_client(&closed_port_uri(), json!({"maxAttempts": 3}));
    let error = failure(client.invoke(&get_policies("t"), &Cancel::new()));
    assert_eq!(error.kind(), ErrorKind::Network);
    let id = error.correlation_id().expect("a correlation id");
    let message = error.message();
    assert!(
        message.starts_with(
            "Failed to retrieve policies, ErrorMessage - Unable to connect to the remote server"
        ) && message.ends_with(&format!(
            " Gave up after 3 attempts (correlation id {id}). ErrorDetails - "
        )),
        "{message}"
    );
}

#[test]
fn attempt_that_times_out_is_retried_and_the_last_timeout_is_reported() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    emulator.set_faults(json!({"latency": {"ms": 2000}}));
    let client = fast_client(
        &emulator.base,
        json!({"timeoutSeconds": 0.2, "maxAttempts": 3}),
    );
    let error = failure(client.invoke(&get_policies(&token), &Cancel::new()));
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(
        error
            .message()
            .contains("The request timed out after 0.2 seconds. Gave up after 3 attempts"),
        "{}",
        error.message()
    );
}

#[test]
fn exhausted_retries_keep_the_contract_message_with_the_body_last() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    emulator.set_faults(json!({"errors": {"status": 503, "probability": 1.0}}));
    let client = fast_client(&emulator.base, json!({"maxAttempts": 3}));
    let error = failure(client.invoke(&get_policies(&token), &Cancel::new()));
    assert_eq!(error.kind(), ErrorKind::ServiceError);
    assert_eq!(error.http_status(), Some(503));
    let id = error.correlation_id().expect("a correlation id");
    let body = error.details().expect("the service's body");
    assert_eq!(
        error.message(),
        format!(
            "Failed to retrieve policies, ErrorMessage - The remote server returned an error: \
             (503) Server Unavailable. Gave up after 3 attempts (correlation id {id}). \
             ErrorDetails - {body}"
        )
    );
}

#[test]
fn retry_after_beyond_the_budget_left_stops_at_once() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    emulator.set_faults(json!({"throttle": {"everyNth": 1, "retryAfterSeconds": 30}}));
    let client = fast_client(&emulator.base, json!({"retryBudgetSeconds": 5}));
    let started = Instant::now();
    let error = failure(client.invoke(&get_policies(&token), &Cancel::new()));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error.kind(), ErrorKind::Throttled);
    assert_eq!(emulator.injected().throttled, 1);
    assert!(
        error.message().contains(
            "Gave up after 1 attempt: the service asked to wait 30 seconds before retrying, \
             more than the"
        ),
        "{}",
        error.message()
    );
}

#[test]
fn cancel_interrupts_a_retry_wait_at_once() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    emulator.set_faults(json!({"throttle": {"everyNth": 1, "retryAfterSeconds": 30}}));
    let client = fast_client(&emulator.base, json!({"retryBudgetSeconds": 60}));
    let cancel = Cancel::new();
    let request = get_policies(&token);
    let (outcome, waited) = std::thread::scope(|scope| {
        let call = scope.spawn(|| client.invoke(&request, &cancel));
        // The first attempt is answered 429 at once; the call is then in its 30 s wait.
        while emulator.injected().throttled == 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(100));
        let cancelled_at = Instant::now();
        cancel.cancel();
        let outcome = call.join().expect("call thread");
        (outcome, cancelled_at.elapsed())
    });
    assert_eq!(failure(outcome).kind(), ErrorKind::Cancelled);
    assert!(waited < Duration::from_secs(1), "{waited:?}");
}

/// Every request to this server is answered 503, without `Retry-After`.
fn always_unavailable(_path: &str) -> Option<(u16, String)> {
    Some((503, r#"{"errorCode":"ServiceUnavailable"}"#.into()))
}

#[test]
fn every_attempt_of_a_call_carries_the_same_correlation_id() {
    let server = CannedServer::start(always_unavailable);
    let client = fast_client(&server.uri, json!({"maxAttempts": 3}));
    let error = failure(client.invoke(&get_policies("t"), &Cancel::new()));
    let sent: Vec<String> = server
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter_map(|head| {
            head.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("x-ms-correlation-id")
                    .then(|| value.trim().to_owned())
            })
        })
        .collect();
    assert_eq!(sent.len(), 3);
    assert!(
        sent.iter()
            .all(|id| Some(id.as_str()) == error.correlation_id()),
        "{sent:?} vs {:?}",
        error.correlation_id()
    );
}

#[test]
fn put_is_retried_after_a_server_error_and_the_value_is_set() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    emulator.set_faults(json!({"errors": {"status": 500, "next": 1, "method": "PUT"}}));
    let update = request(json!({
        "op": "updateProductPolicy", "policyId": POLICY, "productId": PRODUCT,
        "value": "Disabled", "token": token,
    }));
    let item = fast_client(&emulator.base, json!({}))
        .invoke(&update, &Cancel::new())
        .expect("the update succeeds on its retry");
    assert_eq!(item["policyValue"], "Disabled");
    assert_eq!(emulator.injected().errors, 1);
    assert_eq!(emulator.product_value(PRODUCT), "Disabled");
    assert_eq!(emulator.audit_correlation_ids(PRODUCT).len(), 1);
}

#[test]
fn a_put_whose_answer_was_lost_is_sent_again_and_sets_the_value_once() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    // The first PUT is carried out, then its connection closes without an answer.
    emulator.set_faults(json!({"drop": {"next": 1, "method": "PUT", "afterServing": true}}));
    emulator.admin("DELETE", "/requests", None);
    let update = request(json!({
        "op": "updateProductPolicy", "policyId": POLICY, "productId": PRODUCT,
        "value": "Disabled", "token": token,
    }));
    let item = fast_client(&emulator.base, json!({}))
        .invoke(&update, &Cancel::new())
        .expect("the repeated PUT answers");
    assert_eq!(item["policyValue"], "Disabled");
    assert_eq!(
        emulator.request_count(&format!("PUT /v1.0/policies/{POLICY}/products/{PRODUCT}")),
        2
    );
    assert_eq!(emulator.product_value(PRODUCT), "Disabled");
    // The emulator records each PUT it carried out; both carried the one correlation id, so the
    // service's log shows one operation repeated, not two changes.
    let changes = emulator.audit_correlation_ids(PRODUCT);
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0], changes[1]);
}

/// Answers the contract's client errors by path; nothing here is worth a retry.
fn client_errors(path: &str) -> Option<(u16, String)> {
    let status = match path {
        "/v1.0/policies/Expired" => 401,
        "/v1.0/policies/Forbidden" => 403,
        "/v1.0/policies/Bad" => 400,
        _ => 404,
    };
    Some((
        status,
        r#"{"errorCode":"BadRequest","reason":"No."}"#.into(),
    ))
}

#[test]
fn client_errors_are_final_at_once() {
    let server = CannedServer::start(client_errors);
    let client = fast_client(&server.uri, json!({}));
    for (policy, kind) in [
        ("Bad", ErrorKind::BadRequest),
        ("Forbidden", ErrorKind::Forbidden),
        ("Missing", ErrorKind::NotFound),
    ] {
        let before = server.requests.lock().unwrap().len();
        let request = request(json!({"op": "getPolicy", "policyId": policy, "token": "t"}));
        let error = failure(client.invoke(&request, &Cancel::new()));
        assert_eq!(error.kind(), kind, "{policy}");
        assert_eq!(
            server.requests.lock().unwrap().len(),
            before + 1,
            "{policy}"
        );
        assert!(!error.message().contains("Gave up"), "{}", error.message());
    }
}

#[test]
fn unauthorized_is_not_retried_and_keeps_the_exact_message() {
    let server = CannedServer::start(client_errors);
    let request = request(json!({"op": "getPolicy", "policyId": "Expired", "token": "t"}));
    let error = failure(fast_client(&server.uri, json!({})).invoke(&request, &Cancel::new()));
    assert_eq!(error.kind(), ErrorKind::AuthExpired);
    assert_eq!(
        error.message(),
        "Your credentials have expired. Please, call Connect-MSCommerce again to regain access to MSCommerce Module."
    );
    assert_eq!(server.requests.lock().unwrap().len(), 1);
}

#[test]
fn each_retry_writes_a_verbose_line_with_attempt_cause_delay_and_correlation_id() {
    harness::capture_logs();
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    emulator.set_faults(json!({"errors": {"status": 502, "next": 2}}));
    let request = request(json!({"op": "getPolicies", "token": token, "operationId": 9101}));
    fast_client(&emulator.base, json!({}))
        .invoke(&request, &Cancel::new())
        .expect("policies");
    let retries: Vec<String> = harness::verbose_lines(9101)
        .into_iter()
        .filter(|line| line.contains("retrying in"))
        .collect();
    assert_eq!(retries.len(), 2, "{retries:?}");
    for (n, line) in retries.iter().enumerate() {
        let prefix = format!("Attempt {} of 4 failed (HTTP 502); retrying in ", n + 1);
        assert!(
            line.starts_with(&prefix) && line.contains(" (correlation id "),
            "{line}"
        );
    }
}

#[test]
fn max_attempts_1_turns_retrying_off() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    emulator.set_faults(json!({"errors": {"status": 503, "next": 1}}));
    let client = fast_client(&emulator.base, json!({"maxAttempts": 1}));
    let error = failure(client.invoke(&get_policies(&token), &Cancel::new()));
    assert_eq!(emulator.injected().errors, 1);
    let body = error.details().expect("body");
    assert_eq!(
        error.message(),
        format!(
            "Failed to retrieve policies, ErrorMessage - The remote server returned an error: \
             (503) Server Unavailable. ErrorDetails - {body}"
        )
    );
}

#[test]
fn untrusted_certificate_is_final_at_once() {
    harness::capture_logs();
    let emulator = Emulator::start_tls();
    let request = request(json!({"op": "getPolicies", "token": "t", "operationId": 9102}));
    let error = failure(fast_client(&emulator.base, json!({})).invoke(&request, &Cancel::new()));
    assert_eq!(error.kind(), ErrorKind::Network);
    assert!(
        error.message().contains("certificate"),
        "{}",
        error.message()
    );
    let retries = harness::verbose_lines(9102)
        .into_iter()
        .filter(|line| line.contains("retrying in"))
        .count();
    assert_eq!(retries, 0, "{}", error.message());
}

/// A server that takes every request and never answers.
fn never_answers(_path: &str) -> Option<(u16, String)> {
    None
}

#[test]
fn budget_bounds_a_call_to_a_service_that_never_answers() {
    let server = CannedServer::start(never_answers);
    let client = fast_client(
        &server.uri,
        json!({"timeoutSeconds": 30, "retryBudgetSeconds": 1}),
    );
    let started = Instant::now();
    let error = failure(client.invoke(&get_policies("t"), &Cancel::new()));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(
        error
            .message()
            .contains("the 1-second retry budget is spent"),
        "{}",
        error.message()
    );
}

#[test]
fn truncated_json_is_an_invalid_response_naming_the_correlation_id() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    emulator.set_faults(json!({"malformed": {"next": 1}}));
    let error = failure(
        fast_client(&emulator.base, json!({})).invoke(&get_policies(&token), &Cancel::new()),
    );
    assert_eq!(error.kind(), ErrorKind::InvalidResponse);
    let id = error.correlation_id().expect("a correlation id");
    assert!(
        error
            .message()
            .starts_with("Failed to retrieve policies, ErrorMessage - The service's answer is not what was expected")
            && error.message().contains(id),
        "{}",
        error.message()
    );
}

/// Well-formed HTTP, unexpected bodies: `200` with whatever the path names.
fn odd_bodies(path: &str) -> Option<(u16, String)> {
    let body = match path.trim_start_matches("/v1.0/policies/") {
        "Empty" => String::new(),
        "Null" => "null".into(),
        "Number" => "5".into(),
        "Array" => "[]".into(),
        "Html" => "<html><body>Service Unavailable</body></html>".into(),
        "WrongTypes" => r#"{"id":5,"description":[],"defaultValue":{}}"#.into(),
        "MissingId" => r#"{"description":"d"}"#.into(),
        "Deep" => "[".repeat(100_000),
        "Huge" => "x".repeat(33 * 1024 * 1024),
        _ => return Some((404, "{}".into())),
    };
    Some((200, body))
}

#[test]
fn unexpected_json_shapes_are_invalid_responses_with_the_correlation_id() {
    let server = CannedServer::start(odd_bodies);
    let client = fast_client(&server.uri, json!({}));
    for policy in [
        "Empty",
        "Null",
        "Number",
        "Array",
        "Html",
        "WrongTypes",
        "MissingId",
        "Deep",
    ] {
        let request = request(json!({"op": "getPolicy", "policyId": policy, "token": "t"}));
        let error = failure(client.invoke(&request, &Cancel::new()));
        assert_eq!(error.kind(), ErrorKind::InvalidResponse, "{policy}");
        let id = error.correlation_id().expect("a correlation id");
        assert!(
            error.message().contains(id),
            "{policy}: {}",
            error.message()
        );
    }
}

#[test]
fn answer_larger_than_32_mib_is_refused_not_read() {
    let server = CannedServer::start(odd_bodies);
    let request = request(json!({"op": "getPolicy", "policyId": "Huge", "token": "t"}));
    let error = failure(fast_client(&server.uri, json!({})).invoke(&request, &Cancel::new()));
    assert_eq!(error.kind(), ErrorKind::InvalidResponse);
    assert!(error.correlation_id().is_some());
    assert!(
        error.message().contains("larger than 33554432 bytes"),
        "{}",
        error.message()
    );
}
