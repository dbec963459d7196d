//! The C ABI: the only place with `extern "C"`. Each export checks its arguments, runs its body
//! under `catch_unwind` and answers a status plus one JSON envelope (see `docs/abi.md`).
//!
//! Handles are ids from a registry, not pointers, so a stale or doubly freed handle is an error
//! result rather than undefined behaviour.

mod envelope;
mod handles;
mod sign;
mod strings;

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::client::Client;
use crate::config::ClientConfig;
use crate::error::{Error, ErrorKind};
use crate::http::Cancel;
use crate::log::{self, Level, Progress};
use crate::protocol::{data, ClientInfo, Request};

use envelope::{failure, success};
use handles::Registry;

pub use sign::{
    mc_set_sign_callback, McSignCallback, MC_SIGN_BUFFER_TOO_SMALL, MC_SIGN_FAILED, MC_SIGN_OK,
    MC_SIGN_UNKNOWN_KEY,
};

/// Success: the envelope's `ok` is true.
pub const MC_STATUS_OK: i32 = 0;
/// The operation failed; the envelope's `error` says why.
pub const MC_STATUS_FAILED: i32 = 1;
/// A null pointer, invalid UTF-8, malformed JSON or an oversized input.
pub const MC_STATUS_INVALID_ARGUMENT: i32 = 2;
/// An unknown, stale or freed handle.
pub const MC_STATUS_INVALID_HANDLE: i32 = 3;
/// The cancellation token fired.
pub const MC_STATUS_CANCELLED: i32 = 4;
/// A bug: a panic was caught.
pub const MC_STATUS_INTERNAL: i32 = 5;

/// Receives log lines: the operation id from the request, a level (1 error, 2 warning,
/// 3 information, 4 verbose, 5 debug) and a UTF-8 line valid only during the call.
pub type McLogCallback =
    Option<unsafe extern "C" fn(operation_id: u64, level: i32, message: *const c_char)>;

/// Receives progress: the operation id and a UTF-8 JSON object valid only during the call.
pub type McProgressCallback =
    Option<unsafe extern "C" fn(operation_id: u64, progress_json: *const c_char)>;

static CLIENTS: Registry<Client> = Registry::new();
static CANCELS: Registry<Cancel> = Registry::new();

/// The version of this ABI. The shim refuses a library whose version it does not know.
#[no_mangle]
pub extern "C" fn mc_abi_version() -> u32 {
    crate::ABI_VERSION
}

/// Creates a client from a JSON configuration and writes its handle to `out_client`.
///
/// # Safety
/// `config_json` must be null or a NUL-terminated string; `out_client` and `out_json` must be
/// null or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn mc_client_new(
    config_json: *const c_char,
    out_client: *mut u64,
    out_json: *mut *mut c_char,
) -> i32 {
    guard(out_json, || {
        if out_client.is_null() {
            return Err(null_argument("out_client"));
        }
        let json = strings::read(config_json, "config_json")?;
        let config = ClientConfig::from_json(json)?;
        let uri = config.endpoints.service_uri.to_string();
        let client = Client::new(config)?;
        let handle = CLIENTS.insert(client);
        // SAFETY: checked non-null above; the caller promises it is valid for one write.
        unsafe { out_client.write(handle) };
        data(ClientInfo {
            service_uri: uri.trim_end_matches('/').to_owned(),
        })
    })
}

/// Frees a client. A request still running on it finishes first.
#[no_mangle]
pub extern "C" fn mc_client_free(client: u64) -> i32 {
    guard(std::ptr::null_mut(), || {
        CLIENTS
            .remove(client)
            .map(|_| serde_json::Value::Null)
            .ok_or_else(invalid_handle)
    })
}

/// Runs one request (JSON, see `docs/abi.md`) on a client, blocking until it ends. `cancel` is a
/// token from `mc_cancel_new`, or 0 for none.
///
/// # Safety
/// `request_json` must be null or a NUL-terminated string; `out_json` must be null or valid for
/// one write.
#[no_mangle]
pub unsafe extern "C" fn mc_invoke(
    client: u64,
    request_json: *const c_char,
    cancel: u64,
    out_json: *mut *mut c_char,
) -> i32 {
    guard(out_json, || {
        let client = CLIENTS.get(client).ok_or_else(invalid_handle)?;
        let cancel = match cancel {
            0 => Arc::new(Cancel::new()),
            handle => CANCELS.get(handle).ok_or_else(invalid_handle)?,
        };
        let json = strings::read(request_json, "request_json")?;
        let request = Request::from_json(json)?;
        client.invoke(&request, &cancel)
    })
}

/// Frees a string this library returned. Null and pointers it did not hand out are ignored, so
/// freeing twice is harmless.
///
/// # Safety
/// `s` must be null or a pointer; it is only dereferenced when this library allocated it.
#[no_mangle]
pub unsafe extern "C" fn mc_string_free(s: *mut c_char) {
    let _ = catch_unwind(AssertUnwindSafe(|| strings::free(s)));
}

/// Creates a cancellation token and writes its handle to `out_token`.
///
/// # Safety
/// `out_token` must be null or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn mc_cancel_new(out_token: *mut u64) -> i32 {
    guard(std::ptr::null_mut(), || {
        if out_token.is_null() {
            return Err(null_argument("out_token"));
        }
        let handle = CANCELS.insert(Cancel::new());
        // SAFETY: checked non-null above; the caller promises it is valid for one write.
        unsafe { out_token.write(handle) };
        Ok(serde_json::Value::Null)
    })
}

/// Fires a cancellation token: every request running with it stops promptly.
#[no_mangle]
pub extern "C" fn mc_cancel_cancel(token: u64) -> i32 {
    guard(std::ptr::null_mut(), || {
        let cancel = CANCELS.get(token).ok_or_else(invalid_handle)?;
        cancel.cancel();
        Ok(serde_json::Value::Null)
    })
}

/// Frees a cancellation token. A request still holding it keeps it until it ends.
#[no_mangle]
pub extern "C" fn mc_cancel_free(token: u64) -> i32 {
    guard(std::ptr::null_mut(), || {
        CANCELS
            .remove(token)
            .map(|_| serde_json::Value::Null)
            .ok_or_else(invalid_handle)
    })
}

/// Registers the process-wide receiver of log lines; null unregisters.
#[no_mangle]
pub extern "C" fn mc_set_log_callback(callback: McLogCallback) -> i32 {
    guard(std::ptr::null_mut(), || {
        log::set_log_receiver(callback.map(|callback| {
            Arc::new(move |operation: u64, level: Level, message: &str| {
                let line = strings::to_c_lossy(message);
                // SAFETY: the caller registered a function of this signature; the string lives
                // for the duration of the call.
                unsafe { callback(operation, level as i32, line.as_ptr()) }
            }) as Arc<dyn Fn(u64, Level, &str) + Send + Sync>
        }));
        Ok(serde_json::Value::Null)
    })
}

/// Registers the process-wide receiver of progress reports; null unregisters.
#[no_mangle]
pub extern "C" fn mc_set_progress_callback(callback: McProgressCallback) -> i32 {
    guard(std::ptr::null_mut(), || {
        log::set_progress_receiver(callback.map(|callback| {
            Arc::new(move |operation: u64, progress: &Progress| {
                let json = serde_json::to_string(progress).unwrap_or_default();
                let json: CString = strings::to_c_lossy(&json);
                // SAFETY: as for the log callback.
                unsafe { callback(operation, json.as_ptr()) }
            }) as Arc<dyn Fn(u64, &Progress) + Send + Sync>
        }));
        Ok(serde_json::Value::Null)
    })
}

/// Runs an export's body: catches panics, turns the result into a status and, when `out_json`
/// is not null, writes the envelope there.
fn guard(
    out_json: *mut *mut c_char,
    body: impl FnOnce() -> Result<serde_json::Value, Error>,
) -> i32 {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        Err(Error::new(
            ErrorKind::Internal,
            format!("Internal error in the MSCommerce engine: {what}"),
        ))
    });
    let (status, json) = match outcome {
        Ok(data) => (MC_STATUS_OK, success(data)),
        Err(error) => (status_of(&error), failure(&error)),
    };
    if !out_json.is_null() {
        // SAFETY: the caller promises out_json is valid for one write when not null.
        unsafe { out_json.write(strings::alloc(json)) };
    }
    status
}

fn status_of(error: &Error) -> i32 {
    match error.kind() {
        ErrorKind::InvalidArgument => MC_STATUS_INVALID_ARGUMENT,
        ErrorKind::InvalidHandle => MC_STATUS_INVALID_HANDLE,
        ErrorKind::Cancelled => MC_STATUS_CANCELLED,
        ErrorKind::Internal => MC_STATUS_INTERNAL,
        _ => MC_STATUS_FAILED,
    }
}

fn null_argument(name: &str) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        format!("The argument {name} is a null pointer."),
    )
}

fn invalid_handle() -> Error {
    Error::new(
        ErrorKind::InvalidHandle,
        "The handle is not valid: it was never created or was already freed.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(out: *mut c_char) -> serde_json::Value {
        // SAFETY: out came from guard's allocation.
        let text = unsafe { std::ffi::CStr::from_ptr(out) }
            .to_str()
            .unwrap()
            .to_owned();
        unsafe { mc_string_free(out) };
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn panic_in_a_body_becomes_an_internal_envelope() {
        let mut out: *mut c_char = std::ptr::null_mut();
        let status = guard(&mut out, || panic!("boom"));
        assert_eq!(status, MC_STATUS_INTERNAL);
        let envelope = take(out);
        assert_eq!(envelope["ok"], false);
        assert_eq!(envelope["error"]["code"], "Internal");
        assert!(envelope["error"]["message"]
            .as_str()
            .unwrap()
            .contains("boom"));
    }

    #[test]
    fn freed_client_handle_is_invalid_the_second_time() {
        let mut handle = 0u64;
        let config = CString::new(r#"{"serviceUri":"http://127.0.0.1:9"}"#).unwrap();
        let status = unsafe { mc_client_new(config.as_ptr(), &mut handle, std::ptr::null_mut()) };
        assert_eq!(status, MC_STATUS_OK);
        assert_eq!(mc_client_free(handle), MC_STATUS_OK);
        assert_eq!(mc_client_free(handle), MC_STATUS_INVALID_HANDLE);
    }
}
