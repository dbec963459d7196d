//! The sign callback: how the core asks the shim to sign a client assertion with a
//! certificate's private key, which stays in .NET (it may be non-exportable, on a smart card or
//! in a TPM). One process-wide callback, like the log and progress callbacks; the certificate
//! is named by the key id the shim registered it under and passed in the `connect` request.

use std::ffi::c_char;
use std::sync::Arc;

use super::guard;
use crate::auth::app::{set_process_signer, SignError, Signer, SigningAlgorithm};

/// The callback signed `data`: `*signature_len` bytes of `signature` hold the signature.
pub const MC_SIGN_OK: i32 = 0;
/// The callback could not sign (the key refused, the user cancelled a PIN prompt, an
/// exception): nothing is sent and the sign-in fails.
pub const MC_SIGN_FAILED: i32 = 1;
/// `signature_capacity` is too small: the callback wrote the size it needs to
/// `*signature_len`, and is called once more with a buffer that large.
pub const MC_SIGN_BUFFER_TOO_SMALL: i32 = 2;
/// The callback holds no key under `key_id`.
pub const MC_SIGN_UNKNOWN_KEY: i32 = 3;

/// The buffer offered first: a 8192-bit RSA key's signature fits.
const FIRST_CAPACITY: usize = 1024;

/// The largest signature asked for after `MC_SIGN_BUFFER_TOO_SMALL` (a 65536-bit key's).
const MAX_SIGNATURE_BYTES: usize = 8192;

/// Signs `data_len` bytes at `data` (an assertion's `header.payload`, to be hashed and signed
/// as `algorithm` says: `"RS256"`, RSASSA-PKCS1-v1_5 with SHA-256, or `"PS256"`, RSASSA-PSS
/// with SHA-256) with the private key registered under `key_id`; writes the signature to
/// `signature` (room for `signature_capacity` bytes) and its length to `signature_len`, and
/// returns one of the `MC_SIGN_*` codes. Called from a worker thread of the core, possibly
/// while other calls are in flight; it must not unwind. Every pointer is valid only during the
/// call.
pub type McSignCallback = Option<
    unsafe extern "C" fn(
        key_id: u64,
        algorithm: *const c_char,
        data: *const u8,
        data_len: usize,
        signature: *mut u8,
        signature_capacity: usize,
        signature_len: *mut usize,
    ) -> i32,
>;

type RawSignCallback =
    unsafe extern "C" fn(u64, *const c_char, *const u8, usize, *mut u8, usize, *mut usize) -> i32;

/// Registers the process-wide signer of client assertions; null unregisters (a certificate
/// sign-in then fails cleanly, naming the certificate).
#[no_mangle]
pub extern "C" fn mc_set_sign_callback(callback: McSignCallback) -> i32 {
    guard(std::ptr::null_mut(), || {
        set_process_signer(
            callback.map(|callback| Arc::new(CallbackSigner { callback }) as Arc<dyn Signer>),
        );
        Ok(serde_json::Value::Null)
    })
}

/// A [`Signer`] that calls the shim's callback.
struct CallbackSigner {
    callback: RawSignCallback,
}

impl Signer for CallbackSigner {
    fn sign(
        &self,
        key_id: u64,
        algorithm: SigningAlgorithm,
        data: &[u8],
    ) -> Result<Vec<u8>, SignError> {
        let name: &'static [u8] = match algorithm {
            SigningAlgorithm::Rs256 => b"RS256\0",
            SigningAlgorithm::Ps256 => b"PS256\0",
        };
        let mut capacity = FIRST_CAPACITY;
        // A second call only after the callback said how much room it needs; never a third,
        // so a callback that keeps asking cannot loop forever.
        for _ in 0..2 {
            let mut signature = vec![0u8; capacity];
            let mut length: usize = 0;
            // SAFETY: the shim registered a function of this signature. Every pointer is valid
            // for the call: `name` is a NUL-terminated static, `data` and `signature` are live
            // slices of the lengths passed, and `length` is a local.
            let status = unsafe {
                (self.callback)(
                    key_id,
                    name.as_ptr().cast(),
                    data.as_ptr(),
                    data.len(),
                    signature.as_mut_ptr(),
                    capacity,
                    &mut length,
                )
            };
            match status {
                MC_SIGN_OK if length == 0 => {
                    return Err(SignError::Malformed("an empty signature".to_owned()))
                }
                MC_SIGN_OK if length > capacity => {
                    return Err(SignError::Malformed(format!(
                        "a length of {length} bytes in a buffer of {capacity}"
                    )))
                }
                MC_SIGN_OK => {
                    signature.truncate(length);
                    return Ok(signature);
                }
                MC_SIGN_BUFFER_TOO_SMALL if length > MAX_SIGNATURE_BYTES => {
                    return Err(SignError::TooLarge {
                        limit: MAX_SIGNATURE_BYTES,
                    })
                }
                MC_SIGN_BUFFER_TOO_SMALL if length > capacity => capacity = length,
                MC_SIGN_BUFFER_TOO_SMALL => {
                    return Err(SignError::Malformed(format!(
                        "a buffer of {capacity} bytes was too small for {length}"
                    )))
                }
                MC_SIGN_UNKNOWN_KEY => return Err(SignError::UnknownKey(key_id)),
                other => {
                    return Err(SignError::Failed(format!(
                        "the signer failed (status {other})"
                    )))
                }
            }
        }
        Err(SignError::Malformed(
            "the buffer was too small twice".to_owned(),
        ))
    }
}
