//! Why a command failed.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::apps::AppError;
use crate::gdap::GdapError;

use crate::faults::FaultConfigError;
use crate::keys::KeyError;
use crate::products::AddProductsError;
use crate::store::StoreError;
use crate::tls::TlsError;
use crate::tokens::MintError;

/// Why a command failed (logged, then the process exits with 1).
#[derive(Debug, thiserror::Error)]
pub(super) enum RunError {
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot load the signing key: {0}")]
    Key(#[from] KeyError),
    #[error("{0}")]
    Mint(#[from] MintError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("cannot write to stdout: {0}")]
    Stdout(io::Error),
    #[error("the server failed: {0}")]
    Serve(io::Error),
    #[error("cannot set up HTTPS: {0}")]
    Tls(#[from] TlsError),
    #[error("invalid faults: {0}")]
    Faults(String),
    #[error("cannot add the products: {0}")]
    Products(#[from] AddProductsError),
    #[error("{0}")]
    App(#[from] AppError),
    #[error("{0}")]
    Relationship(#[from] GdapError),
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
}

impl From<FaultConfigError> for RunError {
    fn from(error: FaultConfigError) -> Self {
        Self::Faults(error.to_string())
    }
}
