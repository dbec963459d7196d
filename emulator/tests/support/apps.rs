//! App registrations for app-only tests: RSA certificates (keys generated once and kept under the
//! target directory, as the signing key is) and client assertions signed with them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::EncodePrivateKey;
use rsa::RsaPrivateKey;
use rustls::pki_types::PrivatePkcs8KeyDer;
use serde_json::{json, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The permission that reads.
pub const READ: &str = "Policy.Read.AllowSelfServicePurchase";
/// The permission that reads and updates.
pub const READ_WRITE: &str = "Policy.ReadWrite.AllowSelfServicePurchase";

/// The assertion type of `client_assertion`.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An RSA certificate and its private key.
pub struct TestCertificate {
    /// The certificate, PEM.
    pub pem: String,
    /// The certificate, DER.
    pub der: Vec<u8>,
    key_pkcs1: Vec<u8>,
}

impl TestCertificate {
    /// A self-signed certificate over the cached RSA key `name` (one key per name).
    pub fn new(name: &str) -> Self {
        let key = rsa_key(name);
        let pkcs8 = key.to_pkcs8_der().expect("PKCS#8").as_bytes().to_vec();
        let pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &PrivatePkcs8KeyDer::from(pkcs8),
            &rcgen::PKCS_RSA_SHA256,
        )
        .expect("an rcgen key pair");
        let cert = rcgen::CertificateParams::new(vec![format!("{name}.test")])
            .expect("parameters")
            .self_signed(&pair)
            .expect("a self-signed certificate");
        Self {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            key_pkcs1: key.to_pkcs1_der().expect("PKCS#1").as_bytes().to_vec(),
        }
    }

    /// `x5t`: base64url of the SHA-1 of the DER.
    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha1::digest(&self.der))
    }

    /// `x5t#S256`: base64url of the SHA-256 of the DER.
    pub fn x5t_s256(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(&self.der))
    }

    /// Signs `claims` with this certificate's key, with `alg` and `header` (x5t values) as given.
    pub fn sign(
        &self,
        alg: Algorithm,
        x5t: Option<String>,
        x5t_s256: Option<String>,
        claims: &Value,
    ) -> String {
        let mut header = Header::new(alg);
        header.x5t = x5t;
        header.x5t_s256 = x5t_s256;
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(&self.key_pkcs1))
            .expect("sign an assertion")
    }

    /// A client assertion of `app_id` for the token endpoint `aud`, naming this certificate by
    /// `x5t#S256`, signed with `alg`, living `lifetime_s` from now.
    pub fn assertion(&self, app_id: &str, aud: &str, alg: Algorithm, lifetime_s: i64) -> String {
        self.sign(
            alg,
            None,
            Some(self.x5t_s256()),
            &assertion_claims(app_id, aud, lifetime_s),
        )
    }
}

/// The claims of a client assertion (a new `jti`).
pub fn assertion_claims(app_id: &str, aud: &str, lifetime_s: i64) -> Value {
    let now = mscommerce_emulator::clock::now_s();
    json!({
        "iss": app_id,
        "sub": app_id,
        "aud": aud,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now.min(now + lifetime_s),
        "iat": now.min(now + lifetime_s),
        "exp": now + lifetime_s,
    })
}

/// The RSA key `name`, generated once and kept under the target directory (generating one takes
/// seconds in a debug build).
fn rsa_key(name: &str) -> RsaPrivateKey {
    let path =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("emulator-test-{name}.der"));
    if let Some(key) = std::fs::read(&path)
        .ok()
        .and_then(|der| RsaPrivateKey::from_pkcs1_der(&der).ok())
    {
        return key;
    }
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("generate an RSA key");
    let der = key.to_pkcs1_der().expect("PKCS#1").as_bytes().to_vec();
    // Written aside and renamed, so a concurrent test binary never reads half a key.
    let aside = path.with_extension(format!("{}.tmp", std::process::id()));
    if std::fs::write(&aside, &der).is_ok() {
        let _ = std::fs::rename(&aside, &path);
    }
    key
}
