//! Who signs a certificate's client assertion. The private key may be one .NET cannot export (a
//! Windows store key marked non-exportable, a smart card, a TPM), so the core never holds it: it
//! hands the bytes to a [`Signer`], which in the module is the shim behind
//! `mc_set_sign_callback`, and in tests an in-process key.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

/// The signature algorithms of a client assertion (RFC 7518), both over SHA-256 with RSA.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256: what every key and every authority accepts, so the
    /// default.
    #[default]
    Rs256,
    /// RSASSA-PSS with SHA-256 (MGF1 SHA-256, salt as long as the hash).
    Ps256,
}

impl SigningAlgorithm {
    /// The JWT name, `RS256` or `PS256`: the `alg` of the assertion and the `algorithm` the sign
    /// callback receives.
    pub fn name(self) -> &'static str {
        match self {
            SigningAlgorithm::Rs256 => "RS256",
            SigningAlgorithm::Ps256 => "PS256",
        }
    }

    /// The algorithm named `RS256` or `PS256` (in any case), if it is one of those.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim() {
            n if n.eq_ignore_ascii_case("RS256") => Some(SigningAlgorithm::Rs256),
            n if n.eq_ignore_ascii_case("PS256") => Some(SigningAlgorithm::Ps256),
            _ => None,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a [`Signer`] produced no signature. The core words the user's message from it, naming
/// the certificate; none of these carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// No signer is registered (the shim has not called `mc_set_sign_callback`, or cleared it).
    #[error("no signer is registered with the engine")]
    NoSigner,
    /// The signer holds no key under this id (the certificate was never registered, or was
    /// released).
    #[error("the signer holds no key with id {0}")]
    UnknownKey(u64),
    /// The signature would not fit in the largest buffer the core offers.
    #[error("the signature is larger than {limit} bytes")]
    TooLarge {
        /// The largest signature the core accepts, in bytes.
        limit: usize,
    },
    /// The signer answered, but with nothing usable: an empty signature, or a length beyond the
    /// buffer it was given.
    #[error("the signer's answer is not a signature ({0})")]
    Malformed(String),
    /// The signer tried and failed (the key refused, a smart card was removed, the user
    /// cancelled a PIN prompt), with its reason.
    #[error("{0}")]
    Failed(String),
}

/// Signs the bytes of a client assertion with the private key registered under `key_id`.
///
/// Called from a blocking thread, never from the async runtime's workers: a smart card may
/// prompt for a PIN and take as long as the user does.
pub trait Signer: Send + Sync {
    /// The signature of `data` (the assertion's `header.payload`, not a hash of it) with
    /// `algorithm`.
    fn sign(
        &self,
        key_id: u64,
        algorithm: SigningAlgorithm,
        data: &[u8],
    ) -> Result<Vec<u8>, SignError>;
}

type SharedSigner = Arc<dyn Signer>;

static PROCESS_SIGNER: RwLock<Option<SharedSigner>> = RwLock::new(None);

/// Sets (or with `None` clears) the process-wide signer that [`ProcessSigner`] delegates to;
/// `mc_set_sign_callback` calls this.
pub fn set_process_signer(signer: Option<Arc<dyn Signer>>) {
    let mut slot = PROCESS_SIGNER
        .write()
        .unwrap_or_else(PoisonError::into_inner);
    *slot = signer;
}

/// The signer registered for the process at the time of each signature, so a session made
/// before the shim registered (or re-registered) its callback uses the current one.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessSigner;

impl Signer for ProcessSigner {
    fn sign(
        &self,
        key_id: u64,
        algorithm: SigningAlgorithm,
        data: &[u8],
    ) -> Result<Vec<u8>, SignError> {
        // Cloned out so a slow signer (a PIN prompt) never holds the lock.
        let signer = PROCESS_SIGNER
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(SignError::NoSigner)?;
        signer.sign(key_id, algorithm, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_round_trip() {
        for algorithm in [SigningAlgorithm::Rs256, SigningAlgorithm::Ps256] {
            assert_eq!(SigningAlgorithm::parse(algorithm.name()), Some(algorithm));
        }
        assert_eq!(
            SigningAlgorithm::parse("ps256"),
            Some(SigningAlgorithm::Ps256)
        );
        assert_eq!(SigningAlgorithm::parse("ES256"), None);
        assert_eq!(SigningAlgorithm::default().to_string(), "RS256");
    }
}
