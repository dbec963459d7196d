//! The RSA key that signs the emulator's tokens: generated on first start, kept in the database
//! (so the `token` command and a running server share it), published as a JWKS.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, TokenData, Validation};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::clock;
use crate::store::{Store, StoreError};

/// The size of a generated key, in bits.
pub const KEY_BITS: usize = 2048;

/// Why a key could not be made, loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Generating or decoding the RSA key failed.
    #[error("RSA: {0}")]
    Rsa(#[from] rsa::Error),
    /// The stored key is not PKCS#1 DER.
    #[error("the stored signing key is not PKCS#1 DER: {0}")]
    Der(#[from] rsa::pkcs1::Error),
    /// Signing failed.
    #[error("cannot sign a token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key generation task failed.
    #[error("the key generation task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A public key as a JSON Web Key (RFC 7517), the shape of an entry of `/discovery/v2.0/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwk {
    /// `RSA`.
    pub kty: &'static str,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: &'static str,
    /// The key id, as tokens carry it in their header.
    pub kid: String,
    /// `RS256`.
    pub alg: &'static str,
    /// The modulus, base64url.
    pub n: String,
    /// The public exponent, base64url.
    pub e: String,
}

/// The signing key. Its `Debug` shows the kid only.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    der: Vec<u8>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    n: String,
    e: String,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a new key. This takes a while (a fraction of a second optimized, seconds in a
    /// debug build): call it from a blocking context.
    pub fn generate() -> Result<Self, KeyError> {
        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, KEY_BITS)?;
        let der = key.to_pkcs1_der()?.as_bytes().to_vec();
        Self::from_parts(&key, der)
    }

    /// A key from its PKCS#1 DER form.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = RsaPrivateKey::from_pkcs1_der(der)?;
        Self::from_parts(&key, der.to_vec())
    }

    fn from_parts(key: &RsaPrivateKey, der: Vec<u8>) -> Result<Self, KeyError> {
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        // The kid is the key's JWK thumbprint (RFC 7638), so it follows from the key itself.
        let thumbprint_input = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(thumbprint_input.as_bytes()));
        let decoding = DecodingKey::from_rsa_components(&n, &e)?;
        Ok(Self {
            kid,
            encoding: EncodingKey::from_rsa_der(&der),
            der,
            decoding,
            n,
            e,
        })
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The private key as PKCS#1 DER, as the store keeps it.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Jwk {
        Jwk {
            kty: "RSA",
            use_: "sig",
            kid: self.kid.clone(),
            alg: "RS256",
            n: self.n.clone(),
            e: self.e.clone(),
        }
    }

    /// Signs `claims` as an RS256 JWT whose header names this key.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, claims, &self.encoding)?;
        crate::secrets::journal(&token);
        Ok(token)
    }

    /// Checks a JWT's signature against this key and its claims against `validation`.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        validation: &Validation,
    ) -> Result<TokenData<T>, jsonwebtoken::errors::Error> {
        jsonwebtoken::decode(token, &self.decoding, validation)
    }

    /// The store's signing key; when there is none, generates one and stores it (if another
    /// process stored one meanwhile, that one wins and is returned).
    pub async fn load_or_create(store: &Store) -> Result<Self, KeyError> {
        if let Some((_, der)) = store.signing_key().await? {
            return Self::from_der(&der);
        }
        let generated = tokio::task::spawn_blocking(Self::generate).await??;
        let (kid, der) = store
            .insert_signing_key_if_absent(generated.kid(), generated.der(), clock::now_ms())
            .await?;
        if kid == generated.kid {
            tracing::info!(kid, "generated a new signing key");
            Ok(generated)
        } else {
            Self::from_der(&der)
        }
    }
}
