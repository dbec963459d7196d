//! Federated tokens (workload identity): a token another identity provider issued, such as a
//! Kubernetes service account token, presented as the client assertion. The platform rotates
//! the file, so it is read again for every token request and never kept.

use std::io::Read as _;
use std::path::Path;

use crate::auth::tokens::sign_in_failed;
use crate::error::Result;
use crate::secret::Secret;

/// A federated token file larger than this is refused: a JWT is a few kilobytes.
const MAX_TOKEN_BYTES: u64 = 64 * 1024;

/// The token in the file at `path`, trimmed. A missing, unreadable, oversized or empty file is a
/// sign-in failure naming the path; the message never quotes the file's content.
pub fn read_federated_token(path: &Path) -> Result<Secret> {
    let shown = path.display();
    let failed = |why: String| {
        sign_in_failed(&format!("the federated token file '{shown}' {why}"))
            .with_target(Some(&shown.to_string()))
    };
    let file =
        std::fs::File::open(path).map_err(|e| failed(format!("could not be opened ({e})")))?;
    let mut bytes = Vec::new();
    file.take(MAX_TOKEN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| failed(format!("could not be read ({e})")))?;
    if bytes.len() as u64 > MAX_TOKEN_BYTES {
        return Err(failed(format!("is larger than {MAX_TOKEN_BYTES} bytes")));
    }
    let text = String::from_utf8(bytes).map_err(|_| failed("does not hold text".to_owned()))?;
    Secret::new(text.trim()).ok_or_else(|| failed("is empty".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn the_token_is_trimmed_and_errors_name_the_path_not_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "  eyJhbGciOi.federated.sig \n").unwrap();
        assert_eq!(
            read_federated_token(&path).unwrap().expose(),
            "eyJhbGciOi.federated.sig"
        );

        std::fs::write(&path, " \n").unwrap();
        let empty = read_federated_token(&path).unwrap_err();
        assert_eq!(empty.kind(), ErrorKind::SignInFailed);
        assert!(empty.message().contains("is empty"), "{empty}");
        assert!(
            empty.message().contains(&path.display().to_string()),
            "{empty}"
        );

        let missing = read_federated_token(&dir.path().join("absent")).unwrap_err();
        assert!(missing.message().contains("absent"), "{missing}");
        assert!(missing
            .message()
            .starts_with("Unable to establish connection: "));

        std::fs::write(&path, "x".repeat(70 * 1024)).unwrap();
        let large = read_federated_token(&path).unwrap_err();
        assert!(!large.message().contains("xxxx"), "{large}");
    }
}
