//! The tokens the sign-in authority issues and the licensing API accepts: their claims, how they
//! are minted, and how a bearer token is checked.
//!
//! The issuer is `https://login.emulator.local/{tenantId}/v2.0` whatever port the server listens
//! on, so a token minted by the `token` command (which knows no port) is the same as one from the
//! token endpoint, and tokens survive a restart on another port.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};

use crate::keys::{KeyError, SigningKey};
use crate::model::{AppPermission, AppRegistration, Role, TenantAccess, TenantId, User};
use crate::secrets;
use crate::store::{Store, StoreError};

/// The application id of the licensing service ("M365 License Manager"): every access token's
/// `aud`.
pub const RESOURCE_APP_ID: &str = "aeb86249-8ea3-49e2-900b-54cc8e308f85";

/// The delegated permission user tokens carry in `scp`.
pub const DELEGATED_PERMISSION: &str = "user_impersonation";

/// The display name of the licensing service's application ([`RESOURCE_APP_ID`]).
pub const RESOURCE_DISPLAY_NAME: &str = "M365 License Manager";

/// The issuer of the federated tokens the emulator mints for tests (as GitHub Actions or a
/// Kubernetes cluster would): a fixed name, like the tokens' issuers, so `mint-federated` needs no
/// running server. Federated credentials name it; tokens it signs are trusted.
pub const FEDERATION_ISSUER: &str = "https://login.emulator.local/federation";

/// The audience of a federated token meant for Microsoft Entra ID (the default of a federated
/// credential).
pub const FEDERATED_AUDIENCE: &str = "api://AzureADTokenExchange";

/// The fixed authority every issuer is under (see the module documentation).
pub const ISSUER_AUTHORITY: &str = "https://login.emulator.local";

/// How far `exp` and `nbf` may be off when a token is checked, in seconds.
pub const LEEWAY_S: u64 = 5;

/// The issuer of the tokens of a tenant: `https://login.emulator.local/{tenantId}/v2.0`.
pub fn issuer(tenant: &TenantId) -> String {
    format!("{ISSUER_AUTHORITY}/{tenant}/v2.0")
}

/// The claims of an access token for the licensing service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The audience: [`RESOURCE_APP_ID`].
    pub aud: String,
    /// The issuer: [`issuer`] of `tid`.
    pub iss: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not before (Unix seconds).
    pub nbf: i64,
    /// Expires (Unix seconds).
    pub exp: i64,
    /// The tenant id.
    pub tid: String,
    /// The object id of the user, or of the app's service principal for app-only tokens.
    pub oid: String,
    /// The subject: pairwise per user (or app) and client.
    pub sub: String,
    /// The client id (v1 name).
    pub appid: String,
    /// The client id (v2 name).
    pub azp: String,
    /// The token version, `2.0`.
    pub ver: String,
    /// A unique id of the token.
    pub uti: String,
    /// `user` or `app`.
    pub idtyp: String,
    /// The user principal name (user tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// The user's sign-in name (user tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// The user's display name (user tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The delegated permissions, space-separated (user tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// The application permissions (app-only tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// The template ids of the user's directory roles (user tokens): in another tenant than the
    /// user's own, the roles of the partner's delegated admin relationships there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wids: Vec<String>,
    /// The issuer of the user's home tenant, when the token is for another tenant (a partner
    /// user acting in a customer tenant), as Entra marks such tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
}

impl AccessClaims {
    /// The claims of a delegated token for `user`, obtained by `client_id`, valid from `now` for
    /// `lifetime_s` seconds (a negative lifetime gives a token that expired that long ago).
    pub fn for_user(user: &User, client_id: &str, now: i64, lifetime_s: i64) -> Self {
        Self::for_user_in(
            &user.tenant_id,
            &user.roles,
            user,
            client_id,
            now,
            lifetime_s,
        )
    }

    /// Like [`AccessClaims::for_user`], for `tenant` with `roles` there: the user's own tenant
    /// and roles, or a customer tenant and the roles a delegated admin relationship grants (then
    /// `idp` names the user's home tenant).
    pub fn for_user_in(
        tenant: &TenantId,
        roles: &[Role],
        user: &User,
        client_id: &str,
        now: i64,
        lifetime_s: i64,
    ) -> Self {
        let (iat, exp) = window(now, lifetime_s);
        Self {
            aud: RESOURCE_APP_ID.to_owned(),
            iss: issuer(tenant),
            iat,
            nbf: iat,
            exp,
            tid: tenant.to_string(),
            oid: user.oid.clone(),
            sub: pairwise_subject(&user.oid, client_id),
            appid: client_id.to_owned(),
            azp: client_id.to_owned(),
            ver: "2.0".to_owned(),
            uti: secrets::random_token(16),
            idtyp: "user".to_owned(),
            upn: Some(user.upn.clone()),
            preferred_username: Some(user.upn.clone()),
            name: Some(user.display_name.clone()),
            scp: Some(DELEGATED_PERMISSION.to_owned()),
            roles: None,
            wids: roles
                .iter()
                .map(|role| role.template_id().to_owned())
                .collect(),
            idp: (*tenant != user.tenant_id).then(|| issuer(&user.tenant_id)),
        }
    }

    /// The claims of an app-only token for `app` in `tenant` (client credentials, managed
    /// identity): `oid` and `sub` are the app's service principal there, `roles` the application
    /// permissions granted to it (absent when none are, as Entra leaves it out).
    pub fn for_app(
        tenant: &TenantId,
        app: &AppRegistration,
        service_principal_id: &str,
        now: i64,
        lifetime_s: i64,
    ) -> Self {
        let (iat, exp) = window(now, lifetime_s);
        let roles: Vec<String> = app
            .roles
            .iter()
            .map(|role| role.name().to_owned())
            .collect();
        Self {
            aud: RESOURCE_APP_ID.to_owned(),
            iss: issuer(tenant),
            iat,
            nbf: iat,
            exp,
            tid: tenant.to_string(),
            oid: service_principal_id.to_owned(),
            sub: service_principal_id.to_owned(),
            appid: app.client_id.clone(),
            azp: app.client_id.clone(),
            ver: "2.0".to_owned(),
            uti: secrets::random_token(16),
            idtyp: "app".to_owned(),
            upn: None,
            preferred_username: None,
            name: None,
            scp: None,
            roles: (!roles.is_empty()).then_some(roles),
            wids: Vec::new(),
            idp: None,
        }
    }

    /// Whether this is an app-only token (no signed-in user).
    pub fn is_app_only(&self) -> bool {
        self.idtyp == "app" || self.scp.is_none() || self.upn.is_none()
    }

    /// The application permissions of the licensing service in `roles` (others are ignored).
    pub fn app_permissions(&self) -> Vec<AppPermission> {
        let mut permissions: Vec<AppPermission> = self
            .roles
            .iter()
            .flatten()
            .filter_map(|role| AppPermission::from_name(role))
            .collect();
        permissions.sort_unstable();
        permissions.dedup();
        permissions
    }

    /// The directory roles in `wids` that the service knows.
    pub fn directory_roles(&self) -> Vec<Role> {
        self.wids
            .iter()
            .filter_map(|id| Role::from_template_id(id))
            .collect()
    }
}

/// The claims of an ID token (OpenID Connect), issued when `openid` was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdClaims {
    /// The client id.
    pub aud: String,
    /// The issuer.
    pub iss: String,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expires.
    pub exp: i64,
    /// The pairwise subject.
    pub sub: String,
    /// The user's object id.
    pub oid: String,
    /// The tenant id.
    pub tid: String,
    /// The user's sign-in name.
    pub preferred_username: String,
    /// The display name.
    pub name: String,
    /// The nonce of the authorization request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// `2.0`.
    pub ver: String,
    /// The issuer of the user's home tenant, when the token is for another tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
}

impl IdClaims {
    /// The ID token claims for `user` signing in to `client_id`.
    pub fn for_user(
        user: &User,
        client_id: &str,
        nonce: Option<String>,
        now: i64,
        lifetime_s: i64,
    ) -> Self {
        Self::for_user_in(&user.tenant_id, user, client_id, nonce, now, lifetime_s)
    }

    /// Like [`IdClaims::for_user`], in `tenant` (a customer tenant for a partner user).
    pub fn for_user_in(
        tenant: &TenantId,
        user: &User,
        client_id: &str,
        nonce: Option<String>,
        now: i64,
        lifetime_s: i64,
    ) -> Self {
        let (iat, exp) = window(now, lifetime_s);
        Self {
            aud: client_id.to_owned(),
            iss: issuer(tenant),
            iat,
            nbf: iat,
            exp,
            sub: pairwise_subject(&user.oid, client_id),
            oid: user.oid.clone(),
            tid: tenant.to_string(),
            preferred_username: user.upn.clone(),
            name: user.display_name.clone(),
            nonce,
            ver: "2.0".to_owned(),
            idp: (*tenant != user.tenant_id).then(|| issuer(&user.tenant_id)),
        }
    }
}

/// The claims of a federated token (an OpenID Connect token of an outside identity provider, such
/// as GitHub Actions' or a Kubernetes service account's) that the emulator mints for tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederatedClaims {
    /// [`FEDERATION_ISSUER`].
    pub iss: String,
    /// The workload's subject (`repo:org/repo:ref:refs/heads/main`, `system:serviceaccount:ns:sa`).
    pub sub: String,
    /// The audience: [`FEDERATED_AUDIENCE`] unless asked otherwise.
    pub aud: String,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expires.
    pub exp: i64,
    /// A unique id.
    pub jti: String,
}

/// Mints a federated token for `subject` (see [`FederatedClaims`]), signed with the emulator's
/// key; a negative lifetime gives an expired one. Journaled like every token the key signs.
pub fn mint_federated(
    key: &SigningKey,
    subject: &str,
    audience: Option<&str>,
    now: i64,
    lifetime_s: i64,
) -> Result<Minted, KeyError> {
    let (iat, exp) = window(now, lifetime_s);
    let claims = FederatedClaims {
        iss: FEDERATION_ISSUER.to_owned(),
        sub: subject.to_owned(),
        aud: audience.unwrap_or(FEDERATED_AUDIENCE).to_owned(),
        iat,
        nbf: iat,
        exp,
        jti: uuid::Uuid::new_v4().hyphenated().to_string(),
    };
    Ok(Minted {
        token: key.sign(&claims)?,
        expires_on: exp,
    })
}

/// `(iat, exp)` of a token minted at `now` for `lifetime_s` (negative: already expired).
fn window(now: i64, lifetime_s: i64) -> (i64, i64) {
    let exp = now.saturating_add(lifetime_s);
    (now.min(exp), exp)
}

/// The `sub` of a user for a client: stable, and different for each client, as Entra's.
fn pairwise_subject(oid: &str, client_id: &str) -> String {
    let hash = secrets::s256_challenge(&format!("{}|{}", oid, client_id.to_ascii_lowercase()));
    hash.chars().take(43).collect()
}

/// Why a bearer token was refused (each gives the reason of a 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    /// Not a JWT, or claims missing or of the wrong type.
    #[error("The access token is malformed.")]
    Malformed,
    /// The signature does not verify with the emulator's key, or the algorithm is not RS256.
    #[error("The access token's signature is invalid.")]
    Signature,
    /// `exp` has passed.
    #[error("The access token has expired.")]
    Expired,
    /// `nbf` is in the future.
    #[error("The access token is not valid yet.")]
    NotYetValid,
    /// `aud` is not the licensing service.
    #[error("The access token is not meant for this service (audience).")]
    Audience,
    /// `iss` is not the issuer of the token's tenant.
    #[error("The access token's issuer is not trusted.")]
    Issuer,
    /// `tid` is not a tenant of the emulator.
    #[error("The access token's tenant is unknown.")]
    UnknownTenant,
}

/// Checks a bearer token's signature, `aud`, `exp` and `nbf` (with [`LEEWAY_S`]), and that `iss`
/// is the issuer of its `tid`. Whether that tenant exists is for the caller to check.
pub fn validate(key: &SigningKey, token: &str) -> Result<AccessClaims, TokenRejection> {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = LEEWAY_S;
    validation.validate_nbf = true;
    validation.set_audience(&[RESOURCE_APP_ID]);
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss"]);
    let claims = key
        .verify::<AccessClaims>(token, &validation)
        .map_err(|error| match error.kind() {
            ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => TokenRejection::Signature,
            ErrorKind::ExpiredSignature => TokenRejection::Expired,
            ErrorKind::ImmatureSignature => TokenRejection::NotYetValid,
            ErrorKind::InvalidAudience => TokenRejection::Audience,
            _ => TokenRejection::Malformed,
        })?
        .claims;
    if claims.iss != issuer(&TenantId::new(claims.tid.clone())) {
        return Err(TokenRejection::Issuer);
    }
    Ok(claims)
}

/// A freshly minted access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minted {
    /// The JWT.
    pub token: String,
    /// Its `exp` (Unix seconds).
    pub expires_on: i64,
}

/// Why a token could not be minted for a user.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// No tenant has this id, domain or name.
    #[error("no tenant '{0}'")]
    UnknownTenant(String),
    /// The tenant has no user with this UPN.
    #[error("tenant '{tenant}' has no user '{upn}'")]
    UnknownUser {
        /// The tenant asked for.
        tenant: String,
        /// The UPN asked for.
        upn: String,
    },
    /// The user belongs to another tenant, and no active delegated admin relationship of
    /// theirs gives them a role in this one.
    #[error("user '{upn}' has no active delegated admin relationship in tenant '{tenant}'")]
    NoAccess {
        /// The tenant asked for.
        tenant: String,
        /// The UPN asked for.
        upn: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Mints a delegated access token for the user `upn` of `tenant` (an id, domain or name), as if
/// the MSCommerce module had signed them in: what the `token` command and `POST /admin/tokens`
/// hand out. A partner user gets a token for a customer tenant as the token endpoint would give
/// it (the roles of their active delegated admin relationships there).
pub async fn mint_user_token(
    store: &Store,
    key: &SigningKey,
    tenant: &str,
    upn: &str,
    now: i64,
    lifetime_s: i64,
) -> Result<Minted, MintError> {
    let found = store
        .find_tenant(tenant)
        .await?
        .ok_or_else(|| MintError::UnknownTenant(tenant.to_owned()))?;
    let user = store
        .user_by_upn(upn)
        .await?
        .ok_or_else(|| MintError::UnknownUser {
            tenant: tenant.to_owned(),
            upn: upn.to_owned(),
        })?;
    let claims = if user.tenant_id == found.id {
        AccessClaims::for_user(&user, crate::seed::MODULE_CLIENT_ID, now, lifetime_s)
    } else {
        let now_ms = now.saturating_mul(1000);
        let Some(TenantAccess::Delegated(roles)) =
            store.tenant_access(&user.oid, &found.id, now_ms).await?
        else {
            return Err(MintError::NoAccess {
                tenant: tenant.to_owned(),
                upn: upn.to_owned(),
            });
        };
        AccessClaims::for_user_in(
            &found.id,
            &roles,
            &user,
            crate::seed::MODULE_CLIENT_ID,
            now,
            lifetime_s,
        )
    };
    Ok(Minted {
        token: key.sign(&claims)?,
        expires_on: claims.exp,
    })
}
