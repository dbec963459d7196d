//! The secret scan of `cargo xtask test`: no secret the emulator issued during the run (access
//! and refresh tokens, authorization and device codes) and no client secret may appear in
//! anything the suites printed: not in a log line, an error, a test name or a failure message.

use std::path::Path;

/// The emulator's seeded app secret (emulator/src/seed.rs): a client secret tests use.
const CLIENT_SECRET: &str = "emulator-app-secret";

/// Secrets shorter than this are not secrets the emulator issues (they are 43 characters and
/// up); skipping them keeps a stray short line from matching everywhere.
const MIN_SECRET_LEN: usize = 20;

/// Checks `transcript` against every secret in the journal at `journal`. The error says how
/// many leaked and of which kind, never the values.
pub fn scan(journal: &Path, transcript: &[u8]) -> Result<(), String> {
    let issued = std::fs::read_to_string(journal).map_err(|e| {
        format!(
            "no secrets journal at {} ({e}): did the emulator run?",
            journal.display()
        )
    })?;
    let text = String::from_utf8_lossy(transcript);
    let mut secrets: Vec<&str> = issued
        .lines()
        .map(str::trim)
        .filter(|s| s.len() >= MIN_SECRET_LEN)
        .collect();
    secrets.sort_unstable();
    secrets.dedup();
    if secrets.is_empty() {
        return Err("the emulator journaled no secrets: the scan would prove nothing".into());
    }
    let leaked: Vec<&str> = secrets
        .iter()
        .copied()
        .chain(std::iter::once(CLIENT_SECRET))
        .filter(|secret| text.contains(secret))
        .collect();
    println!(
        "secret scan: {} issued secrets and the client secret checked against {} bytes of output",
        secrets.len(),
        transcript.len()
    );
    if leaked.is_empty() {
        return Ok(());
    }
    let kinds: Vec<&str> = leaked.iter().map(|secret| kind(secret)).collect();
    Err(format!(
        "{} secret(s) appear in the test output: {}",
        leaked.len(),
        kinds.join(", ")
    ))
}

/// What a secret is, from its shape, for the report.
fn kind(secret: &str) -> &'static str {
    if secret == CLIENT_SECRET {
        "the client secret"
    } else if secret.starts_with("eyJ") && secret.matches('.').count() == 2 {
        "a signed token"
    } else {
        "a code or refresh token"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(lines: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), lines).unwrap();
        file
    }

    #[test]
    fn output_without_secrets_passes() {
        let file = journal("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ\n");
        assert!(scan(file.path(), b"test a ... ok\n").is_ok());
    }

    #[test]
    fn a_leaked_token_fails_without_showing_it() {
        let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
        let file = journal(&format!("{token}\n"));
        let error = scan(file.path(), format!("Bearer {token}").as_bytes()).unwrap_err();
        assert!(error.contains("a signed token"), "{error}");
        assert!(!error.contains(token));
    }

    #[test]
    fn the_client_secret_counts_as_leaked() {
        let file = journal("a-refresh-token-of-forty-three-characters-xx\n");
        assert!(scan(file.path(), b"client_secret=emulator-app-secret").is_err());
    }

    #[test]
    fn an_empty_journal_proves_nothing() {
        let file = journal("");
        assert!(scan(file.path(), b"").is_err());
    }
}
