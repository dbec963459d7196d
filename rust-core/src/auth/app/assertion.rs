//! Client assertions signed with a certificate (RFC 7523, and Entra's "certificate credentials"):
//! a short-lived JWT naming the app as issuer and subject and the token endpoint as audience,
//! whose header identifies the certificate by its hashes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;
use url::Url;

use super::certificate::ClientCertificate;
use super::signer::{SignError, Signer};
use crate::auth::tokens::sign_in_failed;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;

/// The `client_assertion_type` of a JWT assertion.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid: MSAL's ten minutes, long enough for a slow clock or network
/// and short enough that a captured one is soon useless.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(10 * 60);

#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    #[serde(rename = "x5t#S256")]
    x5t_s256: String,
    x5t: String,
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: u64,
    iat: u64,
    exp: u64,
}

/// A client assertion for `client_id` at the token endpoint `audience`, issued at `now` and
/// signed by the certificate's signer. The certificate is checked first
/// ([`super::CertificateInfo::check_usable`]): a refused one is never offered to the signer.
///
/// Blocks while the signer works; async callers run it on a blocking thread.
pub fn client_assertion(
    certificate: &ClientCertificate,
    client_id: &str,
    audience: &Url,
    now: SystemTime,
) -> Result<Secret> {
    let info = &certificate.info;
    info.check_usable(now)?;
    let algorithm = certificate.algorithm;
    let header = Header {
        alg: algorithm.name(),
        typ: "JWT",
        x5t_s256: URL_SAFE_NO_PAD.encode(info.sha256()),
        x5t: URL_SAFE_NO_PAD.encode(info.sha1()),
    };
    let issued = now
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Error::new(ErrorKind::Internal, "The system clock is before 1970."))?
        .as_secs();
    let claims = Claims {
        aud: audience.as_str(),
        iss: client_id,
        sub: client_id,
        jti: uuid::Uuid::new_v4().to_string(),
        nbf: issued,
        iat: issued,
        exp: issued + ASSERTION_LIFETIME.as_secs(),
    };
    let signing_input = format!("{}.{}", part(&header)?, part(&claims)?);
    let signature = sign(certificate.signer.as_ref(), certificate, &signing_input)?;
    Secret::new(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
    .ok_or_else(|| Error::new(ErrorKind::Internal, "The client assertion came out empty."))
}

fn sign(signer: &dyn Signer, certificate: &ClientCertificate, input: &str) -> Result<Vec<u8>> {
    let info = &certificate.info;
    let signature = signer
        .sign(info.key_id(), certificate.algorithm, input.as_bytes())
        .map_err(|error| {
            let why = match error {
                SignError::NoSigner => {
                    "no signer is registered with the engine (mc_set_sign_callback)".to_owned()
                }
                other => other.to_string(),
            };
            sign_in_failed(&format!(
                "the certificate {info} could not sign the client assertion: {why}"
            ))
            .with_target(Some(&info.thumbprint()))
        })?;
    if signature.is_empty() {
        return Err(sign_in_failed(&format!(
            "the certificate {info} could not sign the client assertion: the signature is empty"
        )));
    }
    Ok(signature)
}

/// One part of a JWT: the value's JSON, base64url without padding.
fn part<T: Serialize>(value: &T) -> Result<String> {
    let json = serde_json::to_vec(value).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("The client assertion could not be written: {e}"),
        )
    })?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}
