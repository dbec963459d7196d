//! HTTPS for `serve --tls`: a self-signed certificate for `localhost`, `127.0.0.1` and `::1`,
//! kept in the data directory so clients that trust it go on trusting it after a restart.
//!
//! The certificate (`tls-cert.pem`) and its ECDSA P-256 key (`tls-key.pem`, readable by its
//! owner only on Unix) are generated when either is missing or unreadable; delete them to get new
//! ones.

use std::fs;
use std::io::{self, Write as _};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// The certificate file in the data directory (PEM).
pub const CERT_FILE: &str = "tls-cert.pem";
/// The private key file in the data directory (PEM, PKCS#8).
pub const KEY_FILE: &str = "tls-key.pem";

/// Why HTTPS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate could not be generated.
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// rustls refused the certificate or key.
    #[error("cannot use the certificate: {0}")]
    Config(#[from] rustls::Error),
}

/// The certificate and key of a data directory, ready to serve.
#[derive(Clone)]
pub struct Tls {
    /// Where the certificate is (PEM): what clients should trust.
    pub certificate_path: PathBuf,
    /// Accepts TLS connections with the certificate.
    pub acceptor: TlsAcceptor,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("certificate_path", &self.certificate_path)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Loads the certificate and key of `data_dir`, or generates and writes new ones (valid for
    /// `localhost`, `127.0.0.1`, `::1` and `host` when it is another specific address).
    pub fn load_or_create(data_dir: &Path, host: IpAddr) -> Result<Self, TlsError> {
        let certificate_path = data_dir.join(CERT_FILE);
        let key_path = data_dir.join(KEY_FILE);
        let (chain, key) = match load(&certificate_path, &key_path) {
            Some(loaded) => loaded,
            None => {
                let (certificate, key) = generate(host)?;
                write_file(&key_path, key.serialize_pem().as_bytes(), true)?;
                write_file(&certificate_path, certificate.pem().as_bytes(), false)?;
                tracing::info!(path = %certificate_path.display(), "generated a TLS certificate");
                let der = PrivateKeyDer::try_from(key.serialize_der())
                    .map_err(|error| rustls::Error::General(error.to_owned()))?;
                (vec![certificate.der().clone()], der)
            }
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            certificate_path,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }
}

/// The certificate chain and key in these files, when both are there and readable.
fn load(
    certificate_path: &Path,
    key_path: &Path,
) -> Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let chain = fs::read(certificate_path).ok()?;
    let key = fs::read(key_path).ok()?;
    let chain: Vec<_> = CertificateDer::pem_slice_iter(&chain)
        .collect::<Result<_, _>>()
        .ok()?;
    let key = PrivateKeyDer::from_pem_slice(&key).ok()?;
    (!chain.is_empty()).then_some((chain, key))
}

fn generate(host: IpAddr) -> Result<(rcgen::Certificate, KeyPair), rcgen::Error> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !host.is_loopback() && !host.is_unspecified() {
        names.push(host.to_string());
    }
    let mut params = CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "MSCommerce emulator");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(5 * 365);
    let key = KeyPair::generate()?;
    let certificate = params.self_signed(&key)?;
    Ok((certificate, key))
}

/// Writes `contents` to `path` through a file beside it, renamed into place; `private` makes it
/// readable by its owner only (on Unix).
fn write_file(path: &Path, contents: &[u8], private: bool) -> Result<(), TlsError> {
    let aside = path.with_extension(format!("pem.{}.tmp", std::process::id()));
    let write = || -> io::Result<()> {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        let mut file = options.open(&aside)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&aside, path)
    };
    write().map_err(|source| TlsError::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn certificate_is_generated_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let host = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let first = Tls::load_or_create(dir.path(), host).unwrap();
        let pem = fs::read_to_string(&first.certificate_path).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
        Tls::load_or_create(dir.path(), host).unwrap();
        assert_eq!(fs::read_to_string(&first.certificate_path).unwrap(), pem);

        fs::remove_file(dir.path().join(KEY_FILE)).unwrap();
        Tls::load_or_create(dir.path(), host).unwrap();
        assert_ne!(fs::read_to_string(&first.certificate_path).unwrap(), pem);
    }
}
