//! Strings across the ABI: reading the caller's, and handing out and freeing ours.

use std::collections::HashSet;
use std::ffi::{c_char, CStr, CString};
use std::sync::Mutex;

use crate::error::{Error, ErrorKind};
use crate::protocol::MAX_REQUEST_BYTES;

/// Pointers handed out and not yet freed; `free` ignores any other pointer.
static LIVE: Mutex<Option<HashSet<usize>>> = Mutex::new(None);

/// Reads a NUL-terminated UTF-8 argument.
pub(crate) fn read<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("The argument {name} is a null pointer."),
        ));
    }
    // SAFETY: non-null, and the caller promises a NUL-terminated string that outlives the call.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    if bytes.len() > MAX_REQUEST_BYTES {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("The argument {name} is too large."),
        ));
    }
    std::str::from_utf8(bytes).map_err(|_| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("The argument {name} is not valid UTF-8."),
        )
    })
}

/// A C string of `text`, with any NUL replaced so nothing is cut short.
pub(crate) fn to_c_lossy(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

/// Hands out a string the caller must free with `mc_string_free`.
pub(crate) fn alloc(text: String) -> *mut c_char {
    let ptr = to_c_lossy(&text).into_raw();
    LIVE.lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get_or_insert_with(HashSet::new)
        .insert(ptr as usize);
    ptr
}

/// Frees a string from `alloc`; anything else (null, freed, foreign) is ignored.
pub(crate) fn free(ptr: *mut c_char) {
    if ptr.is_null() {
        return;
    }
    let ours = LIVE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .as_mut()
        .is_some_and(|live| live.remove(&(ptr as usize)));
    if ours {
        // SAFETY: the pointer came from CString::into_raw in `alloc` and was live until now.
        drop(unsafe { CString::from_raw(ptr) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_free_and_foreign_pointers_are_ignored() {
        let ptr = alloc("hello".to_owned());
        free(ptr);
        free(ptr);
        let mut local = *b"not ours\0";
        free(local.as_mut_ptr().cast());
        free(std::ptr::null_mut());
    }

    #[test]
    fn invalid_utf8_is_an_invalid_argument() {
        let bytes = b"\xff\xfe\0";
        let err = read(bytes.as_ptr().cast(), "x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    }
}
