//! Certificate credentials: a PEM certificate read into its DER form, its thumbprints, and the
//! RSA public key a client assertion signed with its private key is checked against.
//!
//! Only the few DER elements on the way to the public key are read (certificate, to-be-signed
//! part, subject public key info); the certificate is not otherwise checked, as Microsoft Entra
//! ID takes any certificate as a credential (self-signed ones included) and uses its key only.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::store::StoredCertificate;

/// The DER of the `rsaEncryption` object identifier (1.2.840.113549.1.1.1).
const RSA_ENCRYPTION: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];

/// Why a certificate cannot be a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// The text holds no PEM `CERTIFICATE` block.
    #[error("no PEM certificate (-----BEGIN CERTIFICATE-----) found")]
    NoPem,
    /// The DER is not an X.509 certificate.
    #[error("not an X.509 certificate: {0}")]
    Der(&'static str),
    /// The certificate's key is not RSA (client assertions are signed RS256 or PS256).
    #[error(
        "the certificate's key is not an RSA key: only RSA certificates can sign client assertions"
    )]
    NotRsa,
}

/// The first certificate of a PEM text, as stored with its thumbprints.
pub fn from_pem(pem: &str) -> Result<StoredCertificate, CertificateError> {
    let der =
        CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|_| CertificateError::NoPem)?;
    from_der(der.as_ref())
}

/// A DER certificate, as stored with its thumbprints, once it is known to hold an RSA key.
pub fn from_der(der: &[u8]) -> Result<StoredCertificate, CertificateError> {
    rsa_public_key(der)?;
    Ok(StoredCertificate {
        sha1_thumbprint: hex_upper(&Sha1::digest(der)),
        sha256_thumbprint: hex_upper(&Sha256::digest(der)),
        der: der.to_vec(),
    })
}

/// The certificate's RSA public key as PKCS#1 DER (`RSAPublicKey`), what verifies signatures.
pub fn rsa_public_key(der: &[u8]) -> Result<&[u8], CertificateError> {
    let (certificate, _) = expect(der, 0x30, "the certificate is not a SEQUENCE")?;
    let (tbs, _) = expect(certificate, 0x30, "the to-be-signed part is not a SEQUENCE")?;
    let mut rest = tbs;
    // The optional explicit version [0], then serial number, signature algorithm, issuer,
    // validity and subject come before the subject public key info.
    if rest.first() == Some(&0xA0) {
        rest = tlv(rest)?.2;
    }
    for _ in 0..5 {
        rest = tlv(rest)?.2;
    }
    let (spki, _) = expect(rest, 0x30, "the subject public key info is not a SEQUENCE")?;
    let (algorithm, after_algorithm) = expect(spki, 0x30, "the key algorithm is not a SEQUENCE")?;
    let (oid, _) = expect(
        algorithm,
        0x06,
        "the key algorithm has no object identifier",
    )?;
    if oid != RSA_ENCRYPTION {
        return Err(CertificateError::NotRsa);
    }
    let (bits, _) = expect(after_algorithm, 0x03, "the public key is not a BIT STRING")?;
    match bits.split_first() {
        Some((0, key)) if !key.is_empty() => Ok(key),
        _ => Err(CertificateError::Der(
            "the public key BIT STRING is malformed",
        )),
    }
}

/// A thumbprint (uppercase hex) as a JWT header names it: base64url of the bytes.
pub fn header_thumbprint(hex: &str) -> Option<String> {
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02X}")).collect()
}

/// The content of the element at the start of `input` when its tag is `tag`, and what follows.
fn expect<'a>(
    input: &'a [u8],
    tag: u8,
    what: &'static str,
) -> Result<(&'a [u8], &'a [u8]), CertificateError> {
    let (found, content, rest) = tlv(input)?;
    if found == tag {
        Ok((content, rest))
    } else {
        Err(CertificateError::Der(what))
    }
}

/// The tag, content and what follows of the DER element at the start of `input`.
fn tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), CertificateError> {
    const TRUNCATED: CertificateError = CertificateError::Der("truncated DER");
    let (&tag, rest) = input.split_first().ok_or(TRUNCATED)?;
    let (&first, rest) = rest.split_first().ok_or(TRUNCATED)?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7F);
        if count == 0 || count > 4 || rest.len() < count {
            return Err(CertificateError::Der("a DER length is malformed"));
        }
        let (bytes, rest) = rest.split_at(count);
        let length = bytes
            .iter()
            .fold(0_usize, |length, &byte| (length << 8) | usize::from(byte));
        (length, rest)
    };
    if rest.len() < length {
        return Err(TRUNCATED);
    }
    let (content, rest) = rest.split_at(length);
    Ok((tag, content, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ecdsa_certificate_is_refused_and_garbage_is_not_a_certificate() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["app".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        assert_eq!(from_pem(&cert.pem()), Err(CertificateError::NotRsa));
        assert_eq!(from_pem("hello"), Err(CertificateError::NoPem));
        assert!(matches!(
            from_der(&[0x30, 0x05, 1]),
            Err(CertificateError::Der(_))
        ));
    }

    #[test]
    fn thumbprints_read_back_as_header_values() {
        assert_eq!(header_thumbprint("00FF10").as_deref(), Some("AP8Q"));
        assert_eq!(header_thumbprint("0G"), None);
    }
}
