//! App-only sign-in, for unattended runs: an app signs in as itself with a client secret, a
//! certificate (whose key stays in .NET and signs through a [`Signer`]) or a federated token,
//! or the Azure host's managed identity gives the token. An [`AppSession`] holds the credential
//! and its current token, in memory only, renewed before it expires.
//!
//! | piece | what it does |
//! |---|---|
//! | [`ClientCredentials`] | the client credentials grant at `<authority>/<tenant>/oauth2/v2.0/token` |
//! | [`client_assertion`], [`CertificateInfo`], [`Signer`] | a certificate's signed JWT assertion |
//! | [`read_federated_token`] | a workload identity's token file, read for every request |
//! | [`ManagedIdentitySource`], [`ManagedIdentity`] | App Service, Cloud Shell, Arc, the metadata service |
//! | [`EnvironmentCredential`] | the `AZURE_*` variables Azure.Identity reads |
//! | [`AppSession`] | the token, renewed once for all callers; what `getConnection` reports |

mod assertion;
mod certificate;
mod configured;
mod credentials;
mod endpoint;
mod federated;
mod managed;
mod session;
mod signer;
mod token;

pub use assertion::{client_assertion, ASSERTION_LIFETIME, JWT_BEARER_ASSERTION};
pub use certificate::{CertificateInfo, ClientCertificate, RawCertificate};
pub use configured::{
    EnvironmentCredential, EnvironmentCredentialKind, AZURE_AUTHORITY_HOST,
    AZURE_CLIENT_CERTIFICATE_PASSWORD, AZURE_CLIENT_CERTIFICATE_PATH, AZURE_CLIENT_ID,
    AZURE_CLIENT_SECRET, AZURE_FEDERATED_TOKEN_FILE, AZURE_TENANT_ID,
};
pub use credentials::{AppCredential, ClientCredentials};
pub use endpoint::IMDS_ADDRESS;
pub use federated::read_federated_token;
pub use managed::{
    ManagedIdentity, ManagedIdentitySource, ARC_KEY_DIR, DEFAULT_IMDS_HOST, IDENTITY_ENDPOINT,
    IDENTITY_HEADER, IDENTITY_SERVER_THUMBPRINT, IMDS_CONNECT_TIMEOUT, IMDS_ENDPOINT, MSI_ENDPOINT,
    MSI_SECRET, POD_IDENTITY_AUTHORITY_HOST, PROGRAM_DATA,
};
pub use session::{AppAuthType, AppConnection, AppSession, TokenSource};
pub use signer::{set_process_signer, ProcessSigner, SignError, Signer, SigningAlgorithm};
pub use token::AppToken;

/// The secret string type app-only credentials and tokens travel in.
pub use crate::secret::Secret;

/// The licensing service's resource, whose `/.default` scope app-only sign-in asks for.
pub use crate::auth::signin::LICENSING_RESOURCE;
