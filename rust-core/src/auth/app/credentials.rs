//! The client credentials grant (RFC 6749 section 4.4): an app signs in as itself with a client
//! secret, a certificate's signed assertion, or a federated token, for the resource's
//! `/.default` permissions.

use std::fmt;
use std::path::PathBuf;
use std::time::SystemTime;

use url::Url;

use super::assertion::{client_assertion, JWT_BEARER_ASSERTION};
use super::certificate::ClientCertificate;
use super::endpoint::{self, PlainHttp};
use super::federated::read_federated_token;
use super::token::AppToken;
use crate::auth::signin::{Identity, RawSignIn, SignIn};
use crate::auth::tokens::{request_tokens, sign_in_failed, TokenReply};
use crate::error::{Error, ErrorKind, Result};
use crate::http::Cancel;
use crate::secret::Secret;
use crate::settings::Variables;

/// How the app proves who it is.
#[derive(Clone)]
pub enum AppCredential {
    /// A client secret.
    Secret(Secret),
    /// A certificate, whose private key signs an assertion for each token request.
    Certificate(ClientCertificate),
    /// A federated token in this file (workload identity), read again for each token request.
    FederatedTokenFile(PathBuf),
}

impl fmt::Debug for AppCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppCredential::Secret(_) => f.write_str("Secret(<redacted>)"),
            AppCredential::Certificate(certificate) => {
                f.debug_tuple("Certificate").field(certificate).finish()
            }
            AppCredential::FederatedTokenFile(path) => {
                f.debug_tuple("FederatedTokenFile").field(path).finish()
            }
        }
    }
}

/// An app's sign-in at an authority: who, in which tenant, for what, and with which credential.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    signin: SignIn,
    credential: AppCredential,
}

impl ClientCredentials {
    /// Validates an app-only sign-in. The authority is `https` (or `http` to loopback); the
    /// tenant must be the app's own (an id or a domain), since `organizations` and `common`
    /// mean nothing without a user.
    pub fn new(
        authority_uri: &str,
        tenant: &str,
        client_id: &str,
        resource: &str,
        credential: AppCredential,
    ) -> Result<Self> {
        let authority = endpoint::without_trailing_slash(endpoint::parse(
            authority_uri,
            "authority URI",
            PlainHttp::Loopback,
            false,
        )?);
        if ["organizations", "common", "consumers"]
            .iter()
            .any(|any| tenant.trim().eq_ignore_ascii_case(any))
        {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "App-only sign-in needs the app's tenant (an id or a domain), not '{}'.",
                    tenant.trim()
                ),
            )
            .with_target(Some(tenant.trim())));
        }
        if let AppCredential::Certificate(certificate) = &credential {
            if certificate.info.key_id() == 0 {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "The certificate {} has no key id: the shim registers its key first.",
                        certificate.info
                    ),
                ));
            }
        }
        let identity = Identity::from_raw(RawSignIn {
            tenant_id: Some(tenant.to_owned()),
            client_id: Some(client_id.trim().to_owned()),
            resource: Some(resource.to_owned()),
        })?;
        Ok(ClientCredentials {
            signin: SignIn::new(authority, &identity),
            credential,
        })
    }

    /// The same application signing in to another tenant, where a multi-tenant application is
    /// consented (a partner's app in a customer's tenant).
    pub fn in_tenant(&self, tenant: &str) -> Self {
        ClientCredentials {
            signin: self.signin.in_tenant(tenant),
            credential: self.credential.clone(),
        }
    }

    /// The app's client id.
    pub fn client_id(&self) -> &str {
        &self.signin.client_id
    }

    /// The tenant as given.
    pub fn tenant(&self) -> &str {
        &self.signin.tenant
    }

    /// The authority, without a trailing slash.
    pub fn authority_uri(&self) -> &Url {
        &self.signin.authority_uri
    }

    /// The credential.
    pub fn credential(&self) -> &AppCredential {
        &self.credential
    }

    /// `<authority>/<tenant>/oauth2/v2.0/token`, also the audience of a client assertion.
    pub fn token_endpoint(&self) -> Result<Url> {
        self.signin.endpoint("token")
    }

    /// The scope asked for: the resource's application permissions, `<resource>/.default`.
    pub fn scope(&self) -> String {
        format!("{}/.default", self.signin.resource)
    }

    /// Asks the authority for a token (through the proxy `variables` name). A refusal relays
    /// the authority's `error` and `error_description` (`AADSTS...`) under the contract's
    /// `Unable to establish connection`. A certificate that cannot be used, or a federated
    /// token file that cannot be read, fails before anything is sent.
    pub async fn acquire(&self, variables: &Variables, cancel: &Cancel) -> Result<AppToken> {
        let endpoint = self.token_endpoint()?;
        let assertion = match &self.credential {
            AppCredential::Secret(_) => None,
            AppCredential::Certificate(certificate) => {
                Some(self.sign(certificate, &endpoint, cancel).await?)
            }
            AppCredential::FederatedTokenFile(path) => Some(read_federated_token(path)?),
        };
        let scope = self.scope();
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", self.signin.client_id.as_str()),
            ("scope", scope.as_str()),
        ];
        match (&self.credential, &assertion) {
            (AppCredential::Secret(secret), _) => form.push(("client_secret", secret.expose())),
            (_, Some(assertion)) => {
                form.push(("client_assertion_type", JWT_BEARER_ASSERTION));
                form.push(("client_assertion", assertion.expose()));
            }
            (_, None) => {
                return Err(Error::new(
                    ErrorKind::Internal,
                    "An assertion credential produced no assertion.",
                ))
            }
        }
        match request_tokens(variables, &self.signin, &form, cancel).await? {
            TokenReply::Tokens(tokens) => Ok(AppToken::new(tokens.access, tokens.expires_at)),
            TokenReply::Refused { error, description } => {
                Err(sign_in_failed(&format!("{error}: {description}")))
            }
        }
    }

    /// A client assertion signed on a blocking thread: the signer may wait on a smart card or
    /// a PIN prompt, which must not stall the runtime's workers.
    async fn sign(
        &self,
        certificate: &ClientCertificate,
        endpoint: &Url,
        cancel: &Cancel,
    ) -> Result<Secret> {
        let certificate = certificate.clone();
        let client_id = self.signin.client_id.clone();
        let audience = endpoint.clone();
        let signing = tokio::task::spawn_blocking(move || {
            client_assertion(&certificate, &client_id, &audience, SystemTime::now())
        });
        tokio::select! {
            biased;
            _ = cancel.cancelled() => Err(Error::new(ErrorKind::Cancelled, "The sign-in was cancelled.")),
            joined = signing => joined.map_err(|e| {
                Error::new(ErrorKind::Internal, format!("Signing the client assertion failed: {e}"))
            })?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> AppCredential {
        AppCredential::Secret(Secret::new("s3cret-value").unwrap())
    }

    #[test]
    fn the_token_endpoint_and_scope_follow_the_authority_and_resource() {
        let app = ClientCredentials::new(
            "https://login.microsoftonline.com/",
            "contoso.onmicrosoft.com",
            "11111111-2222-3333-4444-555555555555",
            crate::auth::signin::LICENSING_RESOURCE,
            secret(),
        )
        .unwrap();
        assert_eq!(
            app.token_endpoint().unwrap().as_str(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(app.scope(), "aeb86249-8ea3-49e2-900b-54cc8e308f85/.default");
        let shown = format!("{app:?}");
        assert!(!shown.contains("s3cret-value"), "{shown}");
    }

    #[test]
    fn app_only_needs_a_tenant_and_a_safe_authority() {
        let new = |authority: &str, tenant: &str| {
            ClientCredentials::new(authority, tenant, "app", "res", secret())
        };
        for tenant in ["organizations", "Common", "a/b", ""] {
            let error = new("https://login.microsoftonline.com", tenant).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{tenant}");
        }
        assert!(new("http://login.example.com", "t").is_err());
        assert!(new("http://127.0.0.1:5000", "t").is_ok());
    }
}
