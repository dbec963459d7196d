//! Random secrets (codes, refresh tokens) and the hashes the store keeps instead of them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::Rng as _;
use sha2::{Digest, Sha256};

/// The letters of a device flow's user code: no 0/O, 1/I/L, so it reads back without doubt.
const USER_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// The length of a user code, as Microsoft's (`FSZ3LHMKV`).
const USER_CODE_LENGTH: usize = 9;

/// The variable naming a file to which every secret the emulator issues (codes, refresh tokens,
/// signed tokens) is appended, one per line: a test run reads it afterwards to check that none of
/// them shows up in anything the tests printed. Only test runs set it.
pub const JOURNAL_VARIABLE: &str = "MSCOMMERCE_EMULATOR_SECRETS_LOG";

/// Appends `secret` to the journal, if [`JOURNAL_VARIABLE`] names one.
pub fn journal(secret: &str) {
    use std::io::Write as _;
    static PATH: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let Some(path) = PATH.get_or_init(|| {
        std::env::var_os(JOURNAL_VARIABLE)
            .filter(|v| !v.is_empty())
            .map(Into::into)
    }) else {
        return;
    };
    let _one_writer = WRITING.lock();
    // Best effort: the journal serves a test's scan, never the emulator's answers.
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{secret}");
    }
}

/// A new secret handed to a client (a code or a refresh token): [`random_token`], journaled.
pub fn issue(bytes: usize) -> String {
    let secret = random_token(bytes);
    journal(&secret);
    secret
}

/// A new random secret of `bytes` random bytes, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0_u8; bytes];
    rand::thread_rng().fill(buffer.as_mut_slice());
    URL_SAFE_NO_PAD.encode(buffer)
}

/// A new user code for the device flow.
pub fn user_code() -> String {
    let mut rng = rand::thread_rng();
    (0..USER_CODE_LENGTH)
        .map(|_| char::from(USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())]))
        .collect()
}

/// A user code as typed (any case, spaces and dashes allowed) in the form it was issued.
pub fn normalize_user_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The SHA-256 of `secret` as lowercase hex: what the store keeps of a secret.
pub fn sha256_hex(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The PKCE `S256` challenge of a code verifier: base64url(SHA-256(verifier)).
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Compares two secrets (or their hashes) in time that does not depend on where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0_u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_the_rfc_7636_example() {
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn user_codes_use_the_unambiguous_alphabet() {
        let code = user_code();
        assert_eq!(code.len(), USER_CODE_LENGTH);
        assert!(
            code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)),
            "{code}"
        );
        assert_eq!(normalize_user_code(" abc-def ghj"), "ABCDEFGHJ");
    }

    #[test]
    fn random_tokens_differ_and_are_url_safe() {
        let (a, b) = (random_token(32), random_token(32));
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
