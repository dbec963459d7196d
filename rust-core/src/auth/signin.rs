//! Where and as whom to sign in: the authority, the tenant, the client id and the scope.

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
    /// The resource whose default permissions are asked for.
    pub resource: String,
}

/// The sign-in fields of a `connect` request: who signs in and for what, wherever the
/// authority is.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RawSignIn {
    /// The tenant.
    pub tenant_id: Option<String>,
    /// The client id.
    pub client_id: Option<String>,
    /// The resource (the contract's `-Resource`).
    pub resource: Option<String>,
}

/// Validated sign-in fields: a tenant, a client id and a resource that can go into a URL path
/// and a form without changing their meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// A tenant id or domain, or `organizations`/`common`.
    pub tenant: String,
    /// The public client id.
    pub client_id: String,
    /// The resource whose default permissions are asked for.
    pub resource: String,
}

impl Identity {
    /// Validates the fields, filling in the defaults.
    pub fn from_raw(raw: RawSignIn) -> Result<Self> {
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
        let resource = raw
            .resource
            .unwrap_or_else(|| LICENSING_RESOURCE.to_owned());
        let resource = resource.trim().trim_end_matches('/');
        if resource.is_empty()
            || resource
                .chars()
                .any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(
                Error::new(ErrorKind::InvalidArgument, "The resource is not valid.")
                    .with_target(Some(resource)),
            );
        }
        Ok(Identity {
            tenant: tenant.to_owned(),
            client_id,
            resource: resource.to_owned(),
        })
    }
}

impl SignIn {
    /// A sign-in of `identity` at `authority_uri` (already validated, see
    /// [`crate::environment::parse_endpoint_uri`]).
    pub fn new(authority_uri: Url, identity: &Identity) -> Self {
        SignIn {
            authority_uri,
            tenant: identity.tenant.clone(),
            client_id: identity.client_id.clone(),
            resource: identity.resource.clone(),
        }
    }

    /// The same sign-in in another tenant (a cached account's own).
    pub fn in_tenant(&self, tenant: &str) -> Self {
        SignIn {
            tenant: tenant.to_owned(),
            ..self.clone()
        }
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

    /// The scope asked for: the resource's default permissions, and a refresh token.
    pub fn scope(&self) -> String {
        format!("{}/.default offline_access", self.resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(raw: RawSignIn) -> Result<SignIn> {
        let authority = Url::parse(DEFAULT_AUTHORITY_URI).unwrap();
        Identity::from_raw(raw).map(|identity| SignIn::new(authority, &identity))
    }

    #[test]
    fn defaults_are_the_public_cloud_organizations_and_the_original_client() {
        let signin = public(RawSignIn::default()).unwrap();
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
            assert!(public(raw).is_err(), "{tenant}");
        }
    }

    #[test]
    fn resource_sets_the_scope() {
        let raw = RawSignIn {
            resource: Some("https://example.com/".into()),
            ..RawSignIn::default()
        };
        assert_eq!(
            public(raw).unwrap().scope(),
            "https://example.com/.default offline_access"
        );
        let raw = RawSignIn {
            resource: Some("two words".into()),
            ..RawSignIn::default()
        };
        assert!(public(raw).is_err());
    }
}
