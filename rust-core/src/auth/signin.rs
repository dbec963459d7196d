//! Where and as whom to sign in: the authority, the tenant, the client id and the scope.

use serde::Deserialize;
use url::Url;

use crate::error::{Error, ErrorKind, Result};

/// The public cloud's sign-in authority.
pub const DEFAULT_AUTHORITY_URI: &str = "https://login.microsoftonline.com";

/// The original module's public client id.
pub const DEFAULT_CLIENT_ID: &str = "3d5cffa9-04da-4657-8cab-c7f074657cad";

/// The licensing service's resource (the "M365 License Manager").
pub const LICENSING_RESOURCE: &str = "aeb86249-8ea3-49e2-900b-54cc8e308f85";

/// Any work or school account, whatever its tenant.
pub const DEFAULT_TENANT: &str = "organizations";

/// A validated sign-in configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// The authority, such as `https://login.microsoftonline.com`, without a trailing slash.
    pub authority_uri: Url,
    /// A tenant id or domain, or `organizations`/`common`.
    pub tenant: String,
    /// The public client id.
    pub client_id: String,
}

/// The sign-in fields of a `connect` request.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawSignIn {
    /// The authority URI.
    pub authority_uri: Option<String>,
    /// The tenant.
    pub tenant_id: Option<String>,
    /// The client id.
    pub client_id: Option<String>,
}

impl SignIn {
    /// Validates the sign-in fields, filling in the defaults.
    pub fn from_raw(raw: RawSignIn) -> Result<Self> {
        let authority_uri = crate::config::parse_endpoint_uri(
            raw.authority_uri
                .as_deref()
                .unwrap_or(DEFAULT_AUTHORITY_URI),
            "authority URI",
        )?;
        let tenant = raw.tenant_id.unwrap_or_else(|| DEFAULT_TENANT.to_owned());
        let tenant = tenant.trim();
        if tenant.is_empty()
            || !tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            || tenant.starts_with('.')
        {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "The tenant '{tenant}' is not a tenant id, a domain, organizations or common."
                ),
            )
            .with_target(Some(tenant)));
        }
        let client_id = raw
            .client_id
            .unwrap_or_else(|| DEFAULT_CLIENT_ID.to_owned());
        if client_id.trim().is_empty()
            || client_id
                .chars()
                .any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(
                Error::new(ErrorKind::InvalidArgument, "The client id is not valid.")
                    .with_target(Some(&client_id)),
            );
        }
        Ok(SignIn {
            authority_uri,
            tenant: tenant.to_owned(),
            client_id,
        })
    }

    /// `<authority>/<tenant>/oauth2/v2.0/<endpoint>`.
    pub fn endpoint(&self, endpoint: &str) -> Result<Url> {
        let mut url = self.authority_uri.clone();
        url.path_segments_mut()
            .map_err(|()| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    "The authority URI cannot hold a path.",
                )
            })?
            .pop_if_empty()
            .push(&self.tenant)
            .push("oauth2")
            .push("v2.0")
            .push(endpoint);
        Ok(url)
    }

    /// The scope asked for: the licensing resource's default permissions, and a refresh token.
    pub fn scope(&self) -> String {
        format!("{LICENSING_RESOURCE}/.default offline_access")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_public_cloud_organizations_and_the_original_client() {
        let signin = SignIn::from_raw(RawSignIn::default()).unwrap();
        assert_eq!(
            signin.endpoint("token").unwrap().as_str(),
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"
        );
        assert_eq!(signin.client_id, DEFAULT_CLIENT_ID);
        assert_eq!(
            signin.scope(),
            "aeb86249-8ea3-49e2-900b-54cc8e308f85/.default offline_access"
        );
    }

    #[test]
    fn tenant_with_a_slash_or_query_is_refused() {
        for tenant in ["a/b", "x?y", "", "../t"] {
            let raw = RawSignIn {
                tenant_id: Some(tenant.into()),
                ..RawSignIn::default()
            };
            assert!(SignIn::from_raw(raw).is_err(), "{tenant}");
        }
    }

    #[test]
    fn plain_http_authority_is_refused_unless_loopback() {
        let raw = RawSignIn {
            authority_uri: Some("http://login.example.com".into()),
            ..RawSignIn::default()
        };
        assert!(SignIn::from_raw(raw).is_err());
        let raw = RawSignIn {
            authority_uri: Some("http://127.0.0.1:9/".into()),
            ..RawSignIn::default()
        };
        assert!(SignIn::from_raw(raw).is_ok());
    }
}
