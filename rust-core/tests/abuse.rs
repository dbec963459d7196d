//! Abuse of the inputs and of the C ABI: property tests over what callers may pass (any string
//! as JSON, any id or scope), oversized inputs, and many threads creating, using and freeing
//! clients at once against the emulator in this process. `tests/abi.rs` covers the single-call
//! cases (null pointers, invalid UTF-8, stale and doubly freed handles, cancellation).

mod harness;
mod support;

use std::ffi::CString;
use std::sync::{Barrier, OnceLock};
use std::time::Duration;

use mscommerce_core::config::ClientConfig;
use mscommerce_core::protocol::{Request, MAX_REQUEST_BYTES};
use mscommerce_core::ErrorKind;
use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use serde_json::{json, Value};
use url::Url;

use harness::{Emulator, ADMIN, POLICY, PRODUCT};
use support::{licensing, CannedServer, Native};

const OK: i32 = 0;
const INVALID_ARGUMENT: i32 = 2;
const INVALID_HANDLE: i32 = 3;
const INTERNAL: i32 = 5;

/// The library, loaded once for the property tests that call it many times.
fn native() -> &'static Native {
    static NATIVE: OnceLock<Native> = OnceLock::new();
    NATIVE.get_or_init(Native::load)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // Failures print the shrunk input; nothing is written into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Ids and scopes become path segments and one query parameter, never more.

/// Ids a user might type, and ids chosen to break a URL: separators, encodings, dot segments,
/// whitespace, controls, and anything else Unicode holds.
fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[./?#%&=+;:@\\\\ a-zA-Z0-9~!$'()*,\\[\\]{}|^`\"<>\t\n\r-]{0,24}",
        prop::sample::select(vec![
            ".",
            "..",
            " .. ",
            "%2e",
            "%2E%2e",
            ".%2e",
            "%2F",
            "a/../b",
            "..\\..",
            "\\",
            "?",
            "#",
            "%",
            "%%",
            "%00",
            "\u{0}",
            "\u{202e}",
            "\u{feff}",
            "\u{3000}..\u{3000}",
            "CFQ7TTC0N8SS",
        ])
        .prop_map(str::to_owned),
    ]
}

fn base() -> impl Strategy<Value = Url> {
    prop::sample::select(vec![
        "https://licensing.m365.microsoft.com",
        "http://127.0.0.1:5000/prefix/",
        "https://[::1]:8443/a/b",
    ])
    .prop_map(|text| mscommerce_core::config::parse_service_uri(text).expect("a valid base"))
}

/// What a well-formed URL for the request must look like.
struct Expected {
    /// The path segments after the base's own.
    segments: Vec<String>,
    /// The `scope` query parameter, for the product list.
    scope: Option<String>,
}

fn decoded_segments(url: &Url) -> Vec<String> {
    url.path_segments()
        .map(|segments| {
            segments
                .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn check_url(
    base: &Url,
    json: &Value,
    expected: impl FnOnce() -> Expected,
) -> Result<(), TestCaseError> {
    let request = match Request::from_json(&json.to_string()) {
        Ok(request) => request,
        Err(error) => {
            prop_assert_eq!(
                error.kind(),
                ErrorKind::InvalidArgument,
                "{}",
                error.message()
            );
            return Ok(());
        }
    };
    let http = mscommerce_core::client::licensing::http(&request, base)
        .expect("a licensing request has a URL");
    let url = &http.url;
    prop_assert_eq!(url.scheme(), base.scheme());
    prop_assert_eq!(url.host(), base.host());
    prop_assert_eq!(url.port_or_known_default(), base.port_or_known_default());
    prop_assert!(url.username().is_empty() && url.password().is_none());
    prop_assert_eq!(url.fragment(), None);
    let expected = expected();
    let mut want: Vec<String> = decoded_segments(base)
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    want.extend(["v1.0".to_owned(), "policies".to_owned()]);
    want.extend(expected.segments);
    prop_assert_eq!(decoded_segments(url), want);
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    match expected.scope {
        Some(scope) => prop_assert_eq!(pairs, vec![("scope".to_owned(), scope)]),
        None => prop_assert_eq!(url.query(), None),
    }
    // What the service parses from the wire is what was built.
    let reparsed = Url::parse(url.as_str()).expect("the URL parses again");
    prop_assert_eq!(&reparsed, url);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn policy_id_is_one_path_segment_under_the_service_host(base in base(), policy in id()) {
        let json = json!({"op": "getPolicy", "policyId": policy, "token": "t"});
        check_url(&base, &json, || Expected {
            segments: vec![policy.trim().to_owned()],
            scope: None,
        })?;
    }

    #[test]
    fn product_and_offer_type_ids_are_one_path_segment_each(
        base in base(),
        policy in id(),
        item in id(),
        offer_type in any::<bool>(),
        update in any::<bool>(),
    ) {
        let (field, collection) = if offer_type { ("offerType", "offerTypes") } else { ("productId", "products") };
        let mut json = json!({"op": "getProductPolicy", "policyId": policy, "token": "t"});
        json[field] = json!(item);
        if update {
            json["op"] = json!("updateProductPolicy");
            json["value"] = json!("Disabled");
        }
        check_url(&base, &json, || Expected {
            segments: vec![policy.trim().to_owned(), collection.to_owned(), item.trim().to_owned()],
            scope: None,
        })?;
    }

    #[test]
    fn scope_is_the_only_query_parameter(base in base(), policy in id(), scope in id()) {
        let json = json!({"op": "getProductPolicies", "policyId": policy, "scope": scope, "token": "t"});
        let expected_scope = if scope.trim().is_empty() { "product".to_owned() } else { scope.trim().to_owned() };
        check_url(&base, &json, || Expected {
            segments: vec![policy.trim().to_owned(), "products".to_owned()],
            scope: Some(expected_scope),
        })?;
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing any input never panics: it succeeds or is an InvalidArgument.

/// Any JSON value, a few levels deep, with numbers at the edges of what f64 and u64 hold.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        prop::num::f64::NORMAL.prop_map(|n| json!(n)),
        prop::sample::select(vec![
            0.0, -0.0, 1e-300, 0.001, 0.5, 1.0, 3600.0, 3600.001, 1e308, -1.0
        ])
        .prop_map(|n| json!(n)),
        id().prop_map(Value::String),
        prop::sample::select(vec![
            "deviceCode",
            "browser",
            "accessToken",
            "Enabled",
            "disabled",
            "TRUE",
            "false",
            "http://127.0.0.1:9",
            "https://licensing.m365.microsoft.com",
            "https://x/?q",
            "ftp://a",
            "Global",
            "AzureUSGovernment",
            "organizations",
            "common",
            "",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// An object with `keys` (and a stray one now and then) set to any JSON.
fn object_with(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (
            prop_oneof![9 => prop::sample::select(keys.to_vec()).prop_map(str::to_owned), 1 => "[a-zA-Z]{1,10}"],
            any_json(),
        ),
        0..8,
    )
    .prop_map(|fields| Value::Object(fields.into_iter().collect()))
}

const REQUEST_KEYS: &[&str] = &[
    "op",
    "operationId",
    "token",
    "policyId",
    "productId",
    "offerType",
    "scope",
    "value",
    "enabled",
    "flow",
    "tenantId",
    "clientId",
    "authorityUri",
    "resource",
    "redirectUri",
    "loginHint",
    "contextScope",
    "timeoutSeconds",
    "forget",
    "items",
    "throttleLimit",
    "all",
    "ids",
    "names",
    "exclude",
    "path",
    "noClobber",
    "newProducts",
    "clientSecret",
    "certificate",
    "kind",
    "word",
];

/// Every operation of the protocol, as its schema names them (so a new one is fuzzed too), and
/// one that does not exist.
fn ops() -> Vec<String> {
    let schemas = mscommerce_core::protocol::wire_schemas();
    let mut ops: Vec<String> = schemas["RawRequest"]["oneOf"]
        .as_array()
        .expect("one schema per operation")
        .iter()
        .filter_map(|variant| variant["properties"]["op"]["const"].as_str())
        .map(str::to_owned)
        .collect();
    assert!(ops.len() > 10, "the schema names the operations: {ops:?}");
    ops.push("deleteEverything".to_owned());
    ops
}

const CONFIG_KEYS: &[&str] = &[
    "serviceUri",
    "authorityUri",
    "environment",
    "accessToken",
    "userAgent",
    "timeoutSeconds",
    "maxAttempts",
    "retryBudgetSeconds",
    "retryBaseDelaySeconds",
    "retryMaxDelaySeconds",
];

fn check_request(json: &str) -> Result<(), TestCaseError> {
    match Request::from_json(json) {
        Ok(request) => {
            // A licensing request always has a URL under the service; the others have none.
            let base =
                mscommerce_core::config::parse_service_uri("https://licensing.m365.microsoft.com")
                    .expect("base");
            if let Ok(http) = mscommerce_core::client::licensing::http(&request, &base) {
                prop_assert_eq!(http.url.host_str(), Some("licensing.m365.microsoft.com"));
            }
        }
        Err(error) => prop_assert_eq!(
            error.kind(),
            ErrorKind::InvalidArgument,
            "{}",
            error.message()
        ),
    }
    Ok(())
}

fn check_config(json: &str) -> Result<(), TestCaseError> {
    match ClientConfig::from_json(json) {
        Ok(config) => {
            prop_assert!(config.request_timeout > Duration::ZERO);
            prop_assert!(config.request_timeout <= Duration::from_secs(3600));
            prop_assert!((1..=10).contains(&config.retry.max_attempts));
            prop_assert!(config.retry.budget > Duration::ZERO);
            prop_assert!(config.retry.budget <= Duration::from_secs(3600));
            prop_assert!(config.retry.base_delay <= config.retry.max_delay);
            prop_assert!(config.retry.max_delay <= Duration::from_secs(600));
        }
        Err(error) => prop_assert_eq!(
            error.kind(),
            ErrorKind::InvalidArgument,
            "{}",
            error.message()
        ),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn request_from_any_string_is_parsed_or_refused_never_a_panic(text in any::<String>()) {
        check_request(&text)?;
    }

    #[test]
    fn request_from_any_object_is_parsed_or_refused_never_a_panic(
        mut object in object_with(REQUEST_KEYS),
        op in prop::sample::select(ops()),
    ) {
        object["op"] = json!(op);
        check_request(&object.to_string())?;
    }

    #[test]
    fn config_from_any_string_is_parsed_or_refused_never_a_panic(text in any::<String>()) {
        check_config(&text)?;
    }

    #[test]
    fn config_from_any_object_is_valid_or_refused_never_a_panic(object in object_with(CONFIG_KEYS)) {
        check_config(&object.to_string())?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..config() })]

    /// Any bytes as a C string (no NUL inside: C strings end there): a status the ABI defines,
    /// never Internal, and one well-formed envelope.
    #[test]
    fn abi_answers_any_bytes_with_one_envelope(bytes in prop::collection::vec(1u8..=255, 0..256)) {
        let native = native();
        let text = CString::new(bytes).expect("no NUL inside");
        let mut handle = 0u64;
        let mut out = std::ptr::null_mut();
        let status = unsafe { (native.client_new)(text.as_ptr(), &mut handle, &mut out) };
        let envelope = native.take(out);
        prop_assert!((0..INTERNAL).contains(&status), "{status}: {envelope}");
        prop_assert_eq!(envelope["ok"].as_bool(), Some(status == OK));
        if status == OK {
            prop_assert_eq!(unsafe { (native.client_free)(handle) }, OK);
        }
        // One retry-less client to a closed port, so a request that parses fails fast.
        let client = native.client(r#"{"serviceUri":"http://127.0.0.1:9","maxAttempts":1,"timeoutSeconds":5}"#);
        let mut out = std::ptr::null_mut();
        let status = unsafe { (native.invoke)(client, text.as_ptr(), 0, &mut out) };
        let envelope = native.take(out);
        prop_assert!((0..INTERNAL).contains(&status), "{status}: {envelope}");
        prop_assert_eq!(envelope["ok"].as_bool(), Some(status == OK));
        prop_assert_eq!(unsafe { (native.client_free)(client) }, OK);
    }
}

// ---------------------------------------------------------------------------------------------
// Oversized inputs.

fn new_client(native: &Native, config: &str) -> (i32, Value) {
    let config = CString::new(config).expect("no NUL");
    let mut handle = 0u64;
    let mut out = std::ptr::null_mut();
    let status = unsafe { (native.client_new)(config.as_ptr(), &mut handle, &mut out) };
    (status, native.take(out))
}

#[test]
fn config_over_16_mib_is_an_invalid_argument() {
    let agent = "a".repeat(MAX_REQUEST_BYTES);
    let (status, envelope) = new_client(native(), &json!({ "userAgent": agent }).to_string());
    assert_eq!(status, INVALID_ARGUMENT);
    assert!(
        envelope["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("too large")),
        "{}",
        envelope["error"]["message"]
    );
}

#[test]
fn request_over_16_mib_is_refused_before_any_call() {
    let native = native();
    let server = CannedServer::start(licensing);
    let client = native.client(&json!({ "serviceUri": server.uri }).to_string());
    let token = "t".repeat(MAX_REQUEST_BYTES);
    let (status, envelope) = native.call(
        client,
        &json!({"op": "getPolicies", "token": token}).to_string(),
        0,
    );
    assert_eq!(status, INVALID_ARGUMENT, "{}", envelope["error"]);
    assert!(server.requests.lock().unwrap().is_empty());
    assert_eq!(unsafe { (native.client_free)(client) }, OK);
}

#[test]
fn id_over_256_characters_is_refused_before_any_call() {
    let native = native();
    let server = CannedServer::start(licensing);
    let client = native.client(&json!({ "serviceUri": server.uri }).to_string());
    let policy = "P".repeat(1024 * 1024);
    let (status, envelope) = native.call(
        client,
        &json!({"op": "getPolicy", "policyId": policy, "token": "t"}).to_string(),
        0,
    );
    assert_eq!(status, INVALID_ARGUMENT);
    assert!(envelope["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("longer than 256 characters")));
    assert!(server.requests.lock().unwrap().is_empty());
    assert_eq!(unsafe { (native.client_free)(client) }, OK);
}

#[test]
fn refused_id_is_shown_bounded_and_escaped_in_the_message() {
    let id = format!("\u{1b}[2J\r\nrm -rf\u{202e}{}", "x".repeat(10_000));
    let error = Request::from_json(&json!({"op": "getPolicy", "policyId": id}).to_string())
        .expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    assert_eq!(error.target(), Some(id.as_str()));
    let message = error.message();
    assert!(message.len() < 1024, "{} bytes", message.len());
    assert!(
        !message.chars().any(|c| c.is_control() || c == '\u{202e}'),
        "{message:?}"
    );
    assert!(
        message.starts_with("The value of PolicyId '\\u{1b}[2J\\u{d}\\u{a}rm -rf\\u{202e}xxx"),
        "{message}"
    );
}

#[test]
fn id_with_invisible_formatting_characters_is_refused() {
    for id in ["CFQ7\u{200b}TTC0N8SS", "\u{202e}SaaS", "A\u{feff}"] {
        let json = json!({"op": "getProductPolicy", "policyId": POLICY, "productId": id});
        let error = Request::from_json(&json.to_string()).expect_err("refused");
        assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{id:?}");
    }
}

#[test]
fn deeply_nested_request_json_is_an_invalid_argument_not_a_stack_overflow() {
    let native = native();
    let client = native.client(r#"{"serviceUri":"http://127.0.0.1:9"}"#);
    let nested = format!(
        r#"{{"op":"getPolicies","token":"t","x":{}{}}}"#,
        "[".repeat(1_000_000),
        "]".repeat(1_000_000)
    );
    let (status, _) = native.call(client, &nested, 0);
    assert_eq!(status, INVALID_ARGUMENT);
    assert_eq!(unsafe { (native.client_free)(client) }, OK);
}

#[test]
fn token_too_large_for_the_service_fails_with_a_clear_error_not_a_hang() {
    let emulator = Emulator::start();
    let native = native();
    let client = native.client(
        &json!({"serviceUri": emulator.base, "retryBaseDelaySeconds": 0.01, "retryMaxDelaySeconds": 0.05})
            .to_string(),
    );
    let token = "t".repeat(4 * 1024 * 1024);
    let started = std::time::Instant::now();
    let (status, envelope) = native.call(
        client,
        &json!({"op": "getPolicies", "token": token}).to_string(),
        0,
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status, 1, "{envelope}");
    let message = envelope["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Failed to retrieve policies, ErrorMessage - "),
        "{message}"
    );
    assert!(envelope["error"]["correlationId"].is_string(), "{envelope}");
    assert_eq!(unsafe { (native.client_free)(client) }, OK);
}

// ---------------------------------------------------------------------------------------------
// Many threads at once.

const THREADS: usize = 16;

#[test]
fn sixteen_threads_create_use_and_free_clients_at_once() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    let native = native();
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (barrier, token, base) = (&barrier, token.as_str(), emulator.base.as_str());
            scope.spawn(move || {
                barrier.wait();
                let client = native.client(&json!({ "serviceUri": base, "accessToken": token }).to_string());
                let mut cancel = 0u64;
                assert_eq!(unsafe { (native.cancel_new)(&mut cancel) }, OK);
                for round in 0..4 {
                    let op = (thread * 10 + round) as u64;
                    let value = if (thread + round) % 2 == 0 { "Enabled" } else { "Disabled" };
                    for request in [
                        json!({"op": "getPolicies", "operationId": op}),
                        json!({"op": "getProductPolicy", "operationId": op, "policyId": POLICY, "productId": PRODUCT}),
                        json!({"op": "updateProductPolicy", "operationId": op, "policyId": POLICY, "productId": PRODUCT, "value": value}),
                    ] {
                        let (status, envelope) = native.call(client, &request.to_string(), cancel);
                        assert_eq!(status, OK, "thread {thread}: {envelope}");
                    }
                }
                assert_eq!(unsafe { (native.cancel_free)(cancel) }, OK);
                assert_eq!(unsafe { (native.client_free)(client) }, OK);
                assert_eq!(unsafe { (native.client_free)(client) }, INVALID_HANDLE);
                let (status, _) = native.call(client, r#"{"op":"getPolicies"}"#, 0);
                assert_eq!(status, INVALID_HANDLE);
            });
        }
    });
    assert_eq!(emulator.audit_correlation_ids(PRODUCT).len(), THREADS * 4);
}

#[test]
fn sixteen_threads_retry_through_faults_at_once() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    // A quarter of the requests fail one way or another; ten attempts get every call through.
    emulator.set_faults(json!({
        "seed": 7,
        "drop": {"probability": 0.05},
        "errors": {"status": 503, "probability": 0.1},
        "throttle": {"everyNth": 10, "retryAfterSeconds": 0},
    }));
    let native = native();
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (barrier, token, base) = (&barrier, token.as_str(), emulator.base.as_str());
            scope.spawn(move || {
                let client = native.client(
                    &json!({
                        "serviceUri": base, "accessToken": token, "maxAttempts": 10,
                        "retryBaseDelaySeconds": 0.01, "retryMaxDelaySeconds": 0.1,
                    })
                    .to_string(),
                );
                barrier.wait();
                for _ in 0..5 {
                    let (status, envelope) = native.call(client, r#"{"op":"getPolicies"}"#, 0);
                    assert_eq!(status, OK, "thread {thread}: {envelope}");
                }
                assert_eq!(unsafe { (native.client_free)(client) }, OK);
            });
        }
    });
    let injected = emulator.injected();
    assert!(
        injected.dropped + injected.errors + injected.throttled > 0,
        "{injected:?}"
    );
}

#[test]
fn freeing_a_client_while_a_request_runs_on_it_lets_the_request_finish() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    emulator.set_faults(json!({"latency": {"ms": 500}}));
    let native = native();
    let client =
        native.client(&json!({ "serviceUri": emulator.base, "accessToken": token }).to_string());
    let (status, envelope) = std::thread::scope(|scope| {
        let call = scope.spawn(|| native.call(client, r#"{"op":"getPolicies"}"#, 0));
        while emulator.injected().delayed == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(unsafe { (native.client_free)(client) }, OK);
        call.join().expect("call thread")
    });
    assert_eq!(status, OK, "{envelope}");
    let (status, _) = native.call(client, r#"{"op":"getPolicies"}"#, 0);
    assert_eq!(status, INVALID_HANDLE);
}

#[test]
fn freeing_a_cancel_token_while_a_request_holds_it_is_safe() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    emulator.set_faults(json!({"latency": {"ms": 500}}));
    let native = native();
    let client =
        native.client(&json!({ "serviceUri": emulator.base, "accessToken": token }).to_string());
    let mut cancel = 0u64;
    assert_eq!(unsafe { (native.cancel_new)(&mut cancel) }, OK);
    let (status, envelope) = std::thread::scope(|scope| {
        let call = scope.spawn(|| native.call(client, r#"{"op":"getPolicies"}"#, cancel));
        while emulator.injected().delayed == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(unsafe { (native.cancel_free)(cancel) }, OK);
        assert_eq!(unsafe { (native.cancel_cancel)(cancel) }, INVALID_HANDLE);
        call.join().expect("call thread")
    });
    assert_eq!(status, OK, "{envelope}");
    assert_eq!(unsafe { (native.client_free)(client) }, OK);
}

#[test]
fn handle_zero_and_the_largest_handle_are_invalid_everywhere() {
    let native = native();
    for handle in [0, u64::MAX] {
        let (status, _) = native.call(handle, r#"{"op":"getPolicies","token":"t"}"#, 0);
        assert_eq!(status, INVALID_HANDLE);
        assert_eq!(unsafe { (native.client_free)(handle) }, INVALID_HANDLE);
        assert_eq!(unsafe { (native.cancel_cancel)(handle) }, INVALID_HANDLE);
        assert_eq!(unsafe { (native.cancel_free)(handle) }, INVALID_HANDLE);
    }
}
