//! The environment credential: an app's sign-in described by the variables Azure.Identity's
//! `EnvironmentCredential` and `WorkloadIdentityCredential` read, so a pipeline or a pod
//! configured for the Azure SDKs is configured for this module too.

use std::fmt;
use std::path::PathBuf;

use url::Url;

use super::certificate::ClientCertificate;
use super::credentials::{AppCredential, ClientCredentials};
use super::endpoint::{self, PlainHttp};
use super::session::AppAuthType;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;
use crate::settings::Variables;

/// The app's client id.
pub const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
/// The app's tenant.
pub const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";
/// A client secret.
pub const AZURE_CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
/// A PFX or PEM file with the certificate and its private key (the shim loads it).
pub const AZURE_CLIENT_CERTIFICATE_PATH: &str = "AZURE_CLIENT_CERTIFICATE_PATH";
/// The password of that file.
pub const AZURE_CLIENT_CERTIFICATE_PASSWORD: &str = "AZURE_CLIENT_CERTIFICATE_PASSWORD";
/// A file holding a federated token (workload identity), rotated by the platform.
pub const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
/// The authority, when not the client's (a national cloud).
pub const AZURE_AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";

/// Which credential the variables configure.
#[derive(Clone)]
pub enum EnvironmentCredentialKind {
    /// `AZURE_CLIENT_SECRET`.
    ClientSecret(Secret),
    /// `AZURE_CLIENT_CERTIFICATE_PATH`: the shim loads the file with .NET (with
    /// `AZURE_CLIENT_CERTIFICATE_PASSWORD` when set) and registers its key with its signer.
    ClientCertificate {
        /// The certificate file.
        path: PathBuf,
        /// Whether a password for it is set (never what it is).
        has_password: bool,
    },
    /// `AZURE_FEDERATED_TOKEN_FILE`.
    FederatedToken {
        /// The token file.
        token_file: PathBuf,
    },
}

impl fmt::Debug for EnvironmentCredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvironmentCredentialKind::ClientSecret(_) => f.write_str("ClientSecret(<redacted>)"),
            EnvironmentCredentialKind::ClientCertificate { path, has_password } => f
                .debug_struct("ClientCertificate")
                .field("path", path)
                .field("has_password", has_password)
                .finish(),
            EnvironmentCredentialKind::FederatedToken { token_file } => f
                .debug_struct("FederatedToken")
                .field("token_file", token_file)
                .finish(),
        }
    }
}

/// An app's sign-in as the variables describe it.
#[derive(Debug, Clone)]
pub struct EnvironmentCredential {
    /// `AZURE_TENANT_ID`.
    pub tenant_id: String,
    /// `AZURE_CLIENT_ID`.
    pub client_id: String,
    /// `AZURE_AUTHORITY_HOST`, when set.
    pub authority_host: Option<Url>,
    /// The credential.
    pub kind: EnvironmentCredentialKind,
}

impl EnvironmentCredential {
    /// The credential the variables configure, tried in Azure.Identity's order: a client
    /// secret, a certificate, a federated token. The error names the first variable missing,
    /// never a value.
    pub fn from_variables(variables: &Variables) -> Result<Self> {
        let missing = |what: String| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("The environment credential is not configured: {what}."),
            )
        };
        let required = |name: &str| {
            variables
                .get(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
                .ok_or_else(|| missing(format!("{name} is not set")))
        };
        let tenant_id = required(AZURE_TENANT_ID)?;
        let client_id = required(AZURE_CLIENT_ID)?;
        let authority_host = variables
            .get(AZURE_AUTHORITY_HOST)
            .map(|text| {
                endpoint::parse(
                    text,
                    &format!("{AZURE_AUTHORITY_HOST} value"),
                    PlainHttp::Loopback,
                    false,
                )
                .map(endpoint::without_trailing_slash)
            })
            .transpose()?;
        let path = |name: &str| {
            variables
                .get(name)
                .map(str::trim)
                .filter(|path| !path.is_empty())
                .map(PathBuf::from)
        };
        let kind = if let Some(secret) = variables.get(AZURE_CLIENT_SECRET).and_then(Secret::new) {
            EnvironmentCredentialKind::ClientSecret(secret)
        } else if let Some(path) = path(AZURE_CLIENT_CERTIFICATE_PATH) {
            EnvironmentCredentialKind::ClientCertificate {
                path,
                has_password: variables.get(AZURE_CLIENT_CERTIFICATE_PASSWORD).is_some(),
            }
        } else if let Some(token_file) = path(AZURE_FEDERATED_TOKEN_FILE) {
            EnvironmentCredentialKind::FederatedToken { token_file }
        } else {
            return Err(missing(format!(
                "none of {AZURE_CLIENT_SECRET}, {AZURE_CLIENT_CERTIFICATE_PATH} and \
                 {AZURE_FEDERATED_TOKEN_FILE} is set"
            )));
        };
        Ok(EnvironmentCredential {
            tenant_id,
            client_id,
            authority_host,
            kind,
        })
    }

    /// `AppOnly` for a secret or a certificate, `WorkloadIdentity` for a federated token.
    pub fn auth_type(&self) -> AppAuthType {
        match self.kind {
            EnvironmentCredentialKind::FederatedToken { .. } => AppAuthType::WorkloadIdentity,
            _ => AppAuthType::AppOnly,
        }
    }

    /// `ClientSecret`, `ClientCertificate` or `FederatedToken`, for the shim and messages.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            EnvironmentCredentialKind::ClientSecret(_) => "ClientSecret",
            EnvironmentCredentialKind::ClientCertificate { .. } => "ClientCertificate",
            EnvironmentCredentialKind::FederatedToken { .. } => "FederatedToken",
        }
    }

    /// The sign-in this credential makes at `AZURE_AUTHORITY_HOST`, else at
    /// `default_authority` (the client's), for `resource`. A certificate credential needs the
    /// certificate the shim loaded from `AZURE_CLIENT_CERTIFICATE_PATH`.
    pub fn client_credentials(
        &self,
        default_authority: &str,
        resource: &str,
        certificate: Option<ClientCertificate>,
    ) -> Result<ClientCredentials> {
        let credential = match &self.kind {
            EnvironmentCredentialKind::ClientSecret(secret) => {
                AppCredential::Secret(secret.clone())
            }
            EnvironmentCredentialKind::ClientCertificate { path, .. } => {
                AppCredential::Certificate(certificate.ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidArgument,
                        format!(
                            "The certificate in {AZURE_CLIENT_CERTIFICATE_PATH} ('{}') was not \
                             loaded.",
                            path.display()
                        ),
                    )
                })?)
            }
            EnvironmentCredentialKind::FederatedToken { token_file } => {
                AppCredential::FederatedTokenFile(token_file.clone())
            }
        };
        let authority = self
            .authority_host
            .as_ref()
            .map_or(default_authority, Url::as_str);
        ClientCredentials::new(
            authority,
            &self.tenant_id,
            &self.client_id,
            resource,
            credential,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configured(pairs: &[(&str, &str)]) -> Result<EnvironmentCredential> {
        EnvironmentCredential::from_variables(&Variables::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn a_secret_beats_a_certificate_which_beats_a_federated_token() {
        let all = [
            (AZURE_TENANT_ID, "contoso.onmicrosoft.com"),
            (AZURE_CLIENT_ID, "app"),
            (AZURE_CLIENT_SECRET, "s3cret"),
            (AZURE_CLIENT_CERTIFICATE_PATH, "/certs/app.pfx"),
            (AZURE_CLIENT_CERTIFICATE_PASSWORD, "pfx-pass"),
            (AZURE_FEDERATED_TOKEN_FILE, "/var/run/token"),
        ];
        let secret = configured(&all).unwrap();
        assert_eq!(secret.kind_name(), "ClientSecret");
        assert_eq!(secret.auth_type(), AppAuthType::AppOnly);
        let shown = format!("{secret:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("pfx-pass"),
            "{shown}"
        );

        let certificate = configured(
            &all[..2]
                .iter()
                .chain(&all[3..])
                .copied()
                .collect::<Vec<_>>(),
        )
        .unwrap();
        match &certificate.kind {
            EnvironmentCredentialKind::ClientCertificate { path, has_password } => {
                assert_eq!(path, &PathBuf::from("/certs/app.pfx"));
                assert!(has_password);
            }
            other => panic!("{other:?}"),
        }
        let error = certificate
            .client_credentials("https://login.microsoftonline.com", "res", None)
            .unwrap_err();
        assert!(error.message().contains("/certs/app.pfx"), "{error}");

        let federated = configured(&[all[0], all[1], all[5]]).unwrap();
        assert_eq!(federated.auth_type(), AppAuthType::WorkloadIdentity);
        let app = federated
            .client_credentials("https://login.microsoftonline.com", "res", None)
            .unwrap();
        assert_eq!(app.client_id(), "app");
    }

    #[test]
    fn the_error_names_the_missing_variable_never_a_value() {
        let error =
            configured(&[(AZURE_CLIENT_ID, "app"), (AZURE_CLIENT_SECRET, "s3cret")]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        assert!(error.message().contains(AZURE_TENANT_ID), "{error}");
        assert!(!error.message().contains("s3cret"), "{error}");

        let error =
            configured(&[(AZURE_TENANT_ID, "t"), (AZURE_CLIENT_SECRET, "s3cret")]).unwrap_err();
        assert!(error.message().contains(AZURE_CLIENT_ID), "{error}");

        let error = configured(&[(AZURE_TENANT_ID, "t"), (AZURE_CLIENT_ID, "app")]).unwrap_err();
        assert!(
            error.message().contains(AZURE_FEDERATED_TOKEN_FILE),
            "{error}"
        );
    }

    #[test]
    fn the_authority_host_replaces_the_clients() {
        let credential = configured(&[
            (AZURE_TENANT_ID, "t"),
            (AZURE_CLIENT_ID, "app"),
            (AZURE_CLIENT_SECRET, "s"),
            (AZURE_AUTHORITY_HOST, "https://login.microsoftonline.us/"),
        ])
        .unwrap();
        let app = credential
            .client_credentials("https://login.microsoftonline.com", "res", None)
            .unwrap();
        assert_eq!(
            app.token_endpoint().unwrap().as_str(),
            "https://login.microsoftonline.us/t/oauth2/v2.0/token"
        );
        let refused = configured(&[
            (AZURE_TENANT_ID, "t"),
            (AZURE_CLIENT_ID, "app"),
            (AZURE_CLIENT_SECRET, "s"),
            (AZURE_AUTHORITY_HOST, "http://login.example.com"),
        ])
        .unwrap_err();
        assert!(
            refused.message().contains(AZURE_AUTHORITY_HOST),
            "{refused}"
        );
    }
}
