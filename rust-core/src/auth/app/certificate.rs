//! A certificate the shim loaded and registered with its signer: what the core needs to name it,
//! put it in an assertion's header and refuse it before anything is sent. The certificate and
//! its key stay in .NET; only these facts cross.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::signer::{Signer, SigningAlgorithm};
use crate::auth::tokens::sign_in_failed;
use crate::error::{Error, ErrorKind, Result};

/// A certificate as the `connect` request describes it (the shim's `X509Certificate2`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawCertificate {
    /// The id the shim registered the private key under; the sign callback receives it.
    pub key_id: u64,
    /// The SHA-1 hash of the DER certificate, hex (`X509Certificate2.Thumbprint`).
    pub thumbprint_sha1: String,
    /// The SHA-256 hash of the DER certificate, hex.
    pub thumbprint_sha256: String,
    /// The start of its validity, in Unix seconds.
    pub not_before: i64,
    /// The end of its validity, in Unix seconds.
    pub not_after: i64,
    /// Whether .NET found a private key with it (`HasPrivateKey`).
    pub has_private_key: bool,
    /// Its subject, such as `CN=MSCommerce automation`.
    pub subject: String,
}

/// A validated certificate description.
#[derive(Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    key_id: u64,
    sha1: [u8; 20],
    sha256: [u8; 32],
    not_before: SystemTime,
    not_after: SystemTime,
    has_private_key: bool,
    subject: String,
}

impl CertificateInfo {
    /// Checks the thumbprints are hex hashes of the right length. Validity and the private key
    /// are checked when the certificate is used ([`CertificateInfo::check_usable`]), since a
    /// long run can outlive a certificate.
    pub fn new(raw: RawCertificate) -> Result<Self> {
        let invalid = |what: &str| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "The certificate '{}' has no valid {what} thumbprint.",
                    raw.subject.trim()
                ),
            )
        };
        let sha1 = parse_hex::<20>(&raw.thumbprint_sha1).ok_or_else(|| invalid("SHA-1"))?;
        let sha256 = parse_hex::<32>(&raw.thumbprint_sha256).ok_or_else(|| invalid("SHA-256"))?;
        Ok(CertificateInfo {
            key_id: raw.key_id,
            sha1,
            sha256,
            not_before: from_unix(raw.not_before),
            not_after: from_unix(raw.not_after),
            has_private_key: raw.has_private_key,
            subject: raw.subject.trim().to_owned(),
        })
    }

    /// The id of its private key at the signer.
    pub fn key_id(&self) -> u64 {
        self.key_id
    }

    /// Its SHA-1 thumbprint in upper-case hex, as Windows and `Get-ChildItem Cert:` show it.
    pub fn thumbprint(&self) -> String {
        self.sha1.iter().map(|b| format!("{b:02X}")).collect()
    }

    /// The SHA-1 hash of the DER certificate (the assertion's `x5t`).
    pub fn sha1(&self) -> &[u8; 20] {
        &self.sha1
    }

    /// The SHA-256 hash of the DER certificate (the assertion's `x5t#S256`).
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// Its subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// When it stops being valid.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// Refuses a certificate that cannot sign an assertion the authority would accept at `now`:
    /// one without a private key, expired, or not yet valid. The error names the certificate by
    /// subject and thumbprint.
    pub fn check_usable(&self, now: SystemTime) -> Result<()> {
        let why = if !self.has_private_key {
            "has no private key".to_owned()
        } else if now >= self.not_after {
            format!("expired on {}", rfc3339(self.not_after))
        } else if now < self.not_before {
            format!("is not valid before {}", rfc3339(self.not_before))
        } else {
            return Ok(());
        };
        Err(sign_in_failed(&format!("the certificate {self} {why}"))
            .with_target(Some(&self.thumbprint())))
    }
}

/// `'CN=...' (thumbprint ABC...)`, how messages name a certificate.
impl fmt::Display for CertificateInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}' (thumbprint {})", self.subject, self.thumbprint())
    }
}

impl fmt::Debug for CertificateInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateInfo")
            .field("key_id", &self.key_id)
            .field("thumbprint", &self.thumbprint())
            .field("subject", &self.subject)
            .field("not_before", &rfc3339(self.not_before))
            .field("not_after", &rfc3339(self.not_after))
            .field("has_private_key", &self.has_private_key)
            .finish()
    }
}

/// A certificate credential: the certificate, the algorithm its assertions are signed with,
/// and who signs them.
#[derive(Clone)]
pub struct ClientCertificate {
    /// The certificate.
    pub info: CertificateInfo,
    /// `RS256` unless the caller asked for `PS256`.
    pub algorithm: SigningAlgorithm,
    /// Who holds the private key (in the module, [`super::ProcessSigner`]).
    pub signer: Arc<dyn Signer>,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("info", &self.info)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

fn parse_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    // Windows shows thumbprints in pairs separated by spaces or colons; both are accepted.
    let digits: Vec<u8> = text.bytes().filter(|b| !matches!(b, b' ' | b':')).collect();
    if digits.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (slot, pair) in out.iter_mut().zip(digits.chunks(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *slot = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

fn from_unix(seconds: i64) -> SystemTime {
    if seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
    }
}

/// `2025-01-31T12:00:00Z`, for messages.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let seconds = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    };
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    // Civil date from days since the epoch (Howard Hinnant's algorithm), proleptic Gregorian.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawCertificate {
        RawCertificate {
            key_id: 7,
            thumbprint_sha1: "0123456789abcdef0123456789ABCDEF01234567".into(),
            thumbprint_sha256: "00".repeat(32),
            not_before: 1_700_000_000,
            not_after: 1_800_000_000,
            has_private_key: true,
            subject: " CN=automation ".into(),
        }
    }

    #[test]
    fn thumbprints_are_hex_of_the_right_length() {
        let info = CertificateInfo::new(raw()).unwrap();
        assert_eq!(
            info.thumbprint(),
            "0123456789ABCDEF0123456789ABCDEF01234567"
        );
        assert_eq!(info.subject(), "CN=automation");
        let spaced = RawCertificate {
            thumbprint_sha1: "01 23 45 67 89 ab cd ef 01 23 45 67 89 AB CD EF 01 23 45 67".into(),
            ..raw()
        };
        assert!(CertificateInfo::new(spaced).is_ok());
        for bad in ["", "0123", &"zz".repeat(20), &"00".repeat(21)] {
            let raw = RawCertificate {
                thumbprint_sha1: bad.to_owned(),
                ..raw()
            };
            let error = CertificateInfo::new(raw).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidArgument);
            assert!(error.message().contains("CN=automation"), "{error}");
        }
    }

    #[test]
    fn unusable_certificates_are_named_in_the_error() {
        let within = from_unix(1_750_000_000);
        let info = CertificateInfo::new(raw()).unwrap();
        assert!(info.check_usable(within).is_ok());

        let expired = info.check_usable(from_unix(1_800_000_000)).unwrap_err();
        assert_eq!(expired.kind(), ErrorKind::SignInFailed);
        assert!(
            expired
                .message()
                .starts_with("Unable to establish connection: "),
            "{expired}"
        );
        assert!(
            expired
                .message()
                .contains("expired on 2027-01-15T08:00:00Z"),
            "{expired}"
        );
        assert!(expired.message().contains("CN=automation"), "{expired}");
        assert!(expired.message().contains(&info.thumbprint()), "{expired}");
        assert_eq!(expired.target(), Some(info.thumbprint().as_str()));

        let early = info.check_usable(from_unix(1_600_000_000)).unwrap_err();
        assert!(
            early
                .message()
                .contains("is not valid before 2023-11-14T22:13:20Z"),
            "{early}"
        );

        let keyless = CertificateInfo::new(RawCertificate {
            has_private_key: false,
            ..raw()
        })
        .unwrap();
        let error = keyless.check_usable(within).unwrap_err();
        assert!(error.message().contains("has no private key"), "{error}");
    }

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(from_unix(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(from_unix(-86_400)), "1969-12-31T00:00:00Z");
    }
}
