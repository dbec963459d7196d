//! The C ABI exercised through the built cdylib exactly as the shim uses it: every export,
//! null pointers, invalid UTF-8, bad handles, cancellation, callbacks and many threads.

mod support;

use std::ffi::{c_char, CStr, CString};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use support::{licensing, CannedServer, Native};

const OK: i32 = 0;
const FAILED: i32 = 1;
const INVALID_ARGUMENT: i32 = 2;
const INVALID_HANDLE: i32 = 3;
const CANCELLED: i32 = 4;

fn config(uri: &str) -> String {
    serde_json::json!({ "serviceUri": uri }).to_string()
}

#[test]
fn abi_version_is_1() {
    let native = Native::load();
    assert_eq!(unsafe { (native.abi_version)() }, 1);
}

#[test]
fn client_new_with_null_config_is_an_invalid_argument() {
    let native = Native::load();
    let mut handle = 0u64;
    let mut out = std::ptr::null_mut();
    let status = unsafe { (native.client_new)(std::ptr::null(), &mut handle, &mut out) };
    assert_eq!(status, INVALID_ARGUMENT);
    assert_eq!(native.take(out)["error"]["code"], "InvalidArgument");
    assert_eq!(handle, 0);
}

#[test]
fn client_new_with_null_out_handle_is_an_invalid_argument() {
    let native = Native::load();
    let config = CString::new("{}").unwrap();
    let status =
        unsafe { (native.client_new)(config.as_ptr(), std::ptr::null_mut(), std::ptr::null_mut()) };
    assert_eq!(status, INVALID_ARGUMENT);
}

#[test]
fn client_new_with_invalid_utf8_is_an_invalid_argument() {
    let native = Native::load();
    let bytes = b"{\"serviceUri\":\"\xff\"}\0";
    let mut handle = 0u64;
    let mut out = std::ptr::null_mut();
    let status = unsafe { (native.client_new)(bytes.as_ptr().cast(), &mut handle, &mut out) };
    assert_eq!(status, INVALID_ARGUMENT);
    assert!(native.take(out)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("UTF-8"));
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let native = Native::load();
    let config = CString::new(config("http://example.com")).unwrap();
    let mut handle = 0u64;
    let mut out = std::ptr::null_mut();
    let status = unsafe { (native.client_new)(config.as_ptr(), &mut handle, &mut out) };
    assert_eq!(status, INVALID_ARGUMENT);
    assert!(native.take(out)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("loopback"));
}

#[test]
fn invoke_on_an_unknown_handle_is_an_invalid_handle() {
    let native = Native::load();
    let (status, envelope) = native.call(987_654_321, r#"{"op":"getPolicies","token":"x"}"#, 0);
    assert_eq!(status, INVALID_HANDLE);
    assert_eq!(envelope["error"]["code"], "InvalidHandle");
}

#[test]
fn invoke_with_null_request_is_an_invalid_argument() {
    let native = Native::load();
    let client = native.client(&config("http://127.0.0.1:9"));
    let mut out = std::ptr::null_mut();
    let status = unsafe { (native.invoke)(client, std::ptr::null(), 0, &mut out) };
    assert_eq!(status, INVALID_ARGUMENT);
    native.take(out);
    // A null out pointer is allowed: the caller gets the status only.
    let request = CString::new("{").unwrap();
    let status = unsafe { (native.invoke)(client, request.as_ptr(), 0, std::ptr::null_mut()) };
    assert_eq!(status, INVALID_ARGUMENT);
    assert_eq!(unsafe { (native.client_free)(client) }, OK);
}

#[test]
fn client_freed_twice_is_an_invalid_handle_not_a_crash() {
    let native = Native::load();
    let client = native.client(&config("http://127.0.0.1:9"));
    assert_eq!(unsafe { (native.client_free)(client) }, OK);
    assert_eq!(unsafe { (native.client_free)(client) }, INVALID_HANDLE);
    let (status, _) = native.call(client, r#"{"op":"getPolicies","token":"x"}"#, 0);
    assert_eq!(status, INVALID_HANDLE);
}

#[test]
fn string_free_ignores_null_and_double_free() {
    let native = Native::load();
    let mut out = std::ptr::null_mut();
    unsafe { (native.client_new)(std::ptr::null(), std::ptr::null_mut(), &mut out) };
    unsafe {
        (native.string_free)(out);
        (native.string_free)(out);
        (native.string_free)(std::ptr::null_mut());
    }
}

#[test]
fn request_without_token_or_connection_is_the_contracts_not_connected_error() {
    let native = Native::load();
    let client = native.client(&config("http://127.0.0.1:9"));
    let (status, envelope) = native.call(client, r#"{"op":"getPolicies"}"#, 0);
    assert_eq!(status, FAILED);
    let error = &envelope["error"];
    assert_eq!(error["code"], "NotConnected");
    assert_eq!(error["terminating"], true);
    assert_eq!(
        error["message"],
        "You must call the Connect-MSCommerce cmdlet before calling any other cmdlets"
    );
}

#[test]
fn get_policies_returns_contract_objects_and_sends_token_and_correlation_id() {
    let native = Native::load();
    let server = CannedServer::start(licensing);
    let client = native.client(&config(&server.uri));
    let (status, envelope) = native.call(client, r#"{"op":"getPolicies","token":"tok-123"}"#, 0);
    assert_eq!(status, OK, "{envelope}");
    assert_eq!(
        envelope["data"],
        serde_json::json!([{"kind":"Policy","policyId":"AllowSelfServicePurchase","description":"Self-service purchase","defaultValue":"Enabled","tenantId":null}])
    );
    let head = server.requests.lock().unwrap()[0].to_ascii_lowercase();
    assert!(head.starts_with("get /v1.0/policies http/1.1"), "{head}");
    assert!(head.contains("authorization: bearer tok-123"), "{head}");
    assert!(head.contains("x-ms-correlation-id: "), "{head}");
}

#[test]
fn product_list_maps_to_product_policies() {
    let native = Native::load();
    let server = CannedServer::start(licensing);
    let client = native.client(&config(&server.uri));
    let request =
        r#"{"op":"getProductPolicies","policyId":"AllowSelfServicePurchase","token":"t"}"#;
    let (status, envelope) = native.call(client, request, 0);
    assert_eq!(status, OK, "{envelope}");
    assert_eq!(envelope["data"][0]["kind"], "ProductPolicy");
    assert_eq!(envelope["data"][0]["productId"], "CFQ7TTC0H9MP");
}

#[test]
fn update_sends_a_put_with_the_policy_value_and_returns_the_item() {
    let native = Native::load();
    let server = CannedServer::start(licensing);
    let client = native.client(&config(&server.uri));
    let request = r#"{"op":"updateProductPolicy","policyId":"AllowSelfServicePurchase","productId":"CFQ7TTC0H9MP","enabled":"False","token":"t"}"#;
    let (status, envelope) = native.call(client, request, 0);
    assert_eq!(status, OK, "{envelope}");
    assert_eq!(envelope["data"]["kind"], "ProductPolicy");
    let sent = server.requests.lock().unwrap()[0].clone();
    assert!(
        sent.starts_with("PUT /v1.0/policies/AllowSelfServicePurchase/products/CFQ7TTC0H9MP "),
        "{sent}"
    );
    assert!(
        sent.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{sent}"
    );
    assert!(sent.ends_with(r#"{"policyValue":"Disabled"}"#), "{sent}");
}

#[test]
fn enabled_that_is_not_true_or_false_makes_no_call() {
    let native = Native::load();
    let server = CannedServer::start(licensing);
    let client = native.client(&config(&server.uri));
    let request = r#"{"op":"updateProductPolicy","policyId":"AllowSelfServicePurchase","productId":"CFQ7TTC0H9MP","enabled":"yes","token":"t"}"#;
    let (status, envelope) = native.call(client, request, 0);
    assert_eq!(status, INVALID_ARGUMENT);
    assert_eq!(
        envelope["error"]["message"],
        "Value of $Enabled must be one of the following: $True, $true, $False, $false"
    );
    assert!(server.requests.lock().unwrap().is_empty());
}

#[test]
fn not_found_is_a_non_terminating_error_with_target_and_correlation_id() {
    let native = Native::load();
    let server = CannedServer::start(licensing);
    let client = native.client(&config(&server.uri));
    let (status, envelope) = native.call(
        client,
        r#"{"op":"getPolicy","policyId":"Nope","token":"t"}"#,
        0,
    );
    assert_eq!(status, FAILED);
    let error = &envelope["error"];
    assert_eq!(error["code"], "NotFound");
    assert_eq!(error["category"], "ObjectNotFound");
    assert_eq!(error["terminating"], false);
    assert_eq!(error["target"], "Nope");
    assert_eq!(error["httpStatus"], 404);
    assert!(error["correlationId"]
        .as_str()
        .is_some_and(|id| id.len() == 36));
    assert!(error["message"]
        .as_str()
        .unwrap()
        .starts_with("Failed to retrieve policy with PolicyId 'Nope', ErrorMessage - The remote server returned an error: (404) Not Found. ErrorDetails - {\"errorCode\""));
}

#[test]
fn truncated_json_from_the_service_is_an_invalid_response_not_a_crash() {
    let native = Native::load();
    let server = CannedServer::start(licensing);
    let client = native.client(&config(&server.uri));
    let (status, envelope) = native.call(
        client,
        r#"{"op":"getPolicy","policyId":"Truncated","token":"t"}"#,
        0,
    );
    assert_eq!(status, FAILED);
    assert_eq!(envelope["error"]["code"], "InvalidResponse");
    assert!(envelope["error"]["correlationId"].is_string());
}

#[test]
fn cancel_stops_a_request_the_service_never_answers() {
    let native = Native::load();
    let server = CannedServer::start(licensing);
    let client = native.client(&config(&format!("{}/hang", server.uri)));
    let mut token = 0u64;
    assert_eq!(unsafe { (native.cancel_new)(&mut token) }, OK);
    let cancel_token = token;
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        cancel_token
    });
    let started = Instant::now();
    let native_ref = &native;
    let (status, envelope) = std::thread::scope(|scope| {
        let call =
            scope.spawn(|| native_ref.call(client, r#"{"op":"getPolicies","token":"t"}"#, token));
        let token = canceller.join().unwrap();
        assert_eq!(unsafe { (native_ref.cancel_cancel)(token) }, OK);
        call.join().unwrap()
    });
    assert_eq!(status, CANCELLED, "{envelope}");
    assert_eq!(envelope["error"]["code"], "Cancelled");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(unsafe { (native.cancel_free)(token) }, OK);
    assert_eq!(unsafe { (native.cancel_free)(token) }, INVALID_HANDLE);
    assert_eq!(unsafe { (native.cancel_cancel)(token) }, INVALID_HANDLE);
}

#[test]
fn cancel_new_with_null_out_is_an_invalid_argument() {
    let native = Native::load();
    assert_eq!(
        unsafe { (native.cancel_new)(std::ptr::null_mut()) },
        INVALID_ARGUMENT
    );
}

static LINES: Mutex<Vec<(u64, i32, String)>> = Mutex::new(Vec::new());

unsafe extern "C" fn record(operation: u64, level: i32, message: *const c_char) {
    let text = unsafe { CStr::from_ptr(message) }
        .to_string_lossy()
        .into_owned();
    LINES.lock().unwrap().push((operation, level, text));
}

unsafe extern "C" fn ignore_progress(_: u64, _: *const c_char) {}

#[test]
fn log_lines_carry_the_operation_id_and_never_the_token() {
    let native = Native::load();
    let server = CannedServer::start(licensing);
    let client = native.client(&config(&server.uri));
    assert_eq!(unsafe { (native.set_log_callback)(Some(record)) }, OK);
    assert_eq!(
        unsafe { (native.set_progress_callback)(Some(ignore_progress)) },
        OK
    );
    let (status, _) = native.call(
        client,
        r#"{"op":"getPolicies","operationId":77,"token":"very-secret-token"}"#,
        0,
    );
    assert_eq!(status, OK);
    assert_eq!(unsafe { (native.set_log_callback)(None) }, OK);
    assert_eq!(unsafe { (native.set_progress_callback)(None) }, OK);
    let lines: Vec<_> = LINES
        .lock()
        .unwrap()
        .iter()
        .filter(|(op, _, _)| *op == 77)
        .cloned()
        .collect();
    assert!(
        lines
            .iter()
            .any(|(_, level, text)| *level == 4 && text.starts_with("GET ")),
        "{lines:?}"
    );
    assert!(lines
        .iter()
        .all(|(_, _, text)| !text.contains("very-secret-token")));
}

#[test]
fn many_threads_share_one_client_without_crosstalk() {
    let native = Native::load();
    let server = CannedServer::start(licensing);
    let client = native.client(&config(&server.uri));
    std::thread::scope(|scope| {
        for thread in 0..8 {
            let native = &native;
            scope.spawn(move || {
                for _ in 0..10 {
                    let (request, expected) = if thread % 2 == 0 {
                        (r#"{"op":"getPolicies","token":"t"}"#, "Policy")
                    } else {
                        (r#"{"op":"getProductPolicies","policyId":"AllowSelfServicePurchase","token":"t"}"#, "ProductPolicy")
                    };
                    let (status, envelope) = native.call(client, request, 0);
                    assert_eq!(status, OK, "{envelope}");
                    assert_eq!(envelope["data"][0]["kind"], expected);
                }
            });
        }
    });
    assert_eq!(server.requests.lock().unwrap().len(), 80);
}
