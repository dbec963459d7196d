//! OpenID Connect discovery and the JWKS.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::{OAuthError, TenantScope};
use crate::keys::Jwk;
use crate::tokens::{issuer, ISSUER_AUTHORITY};
use crate::AppState;

/// The OpenID Connect discovery document of a tenant.
#[derive(Debug, Serialize)]
struct OpenIdConfiguration {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    device_authorization_endpoint: String,
    jwks_uri: String,
    response_types_supported: [&'static str; 1],
    response_modes_supported: [&'static str; 1],
    grant_types_supported: [&'static str; 4],
    subject_types_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: [&'static str; 1],
    token_endpoint_auth_methods_supported: [&'static str; 2],
    code_challenge_methods_supported: [&'static str; 1],
    scopes_supported: [&'static str; 4],
    claims_supported: [&'static str; 12],
    tenant_region_scope: Option<&'static str>,
    cloud_instance_name: &'static str,
    request_uri_parameter_supported: bool,
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`. The endpoints are on this server; the
/// issuer is the fixed one tokens carry (`https://login.emulator.local/{tenantId}/v2.0`, with the
/// literal `{tenantid}` for `organizations`/`common`, as Microsoft's).
pub(super) async fn openid_configuration(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    headers: HeaderMap,
) -> Response {
    let scope = match TenantScope::resolve(state.store(), &segment).await {
        Ok(Some(scope)) => scope,
        Ok(None) => return OAuthError::unknown_tenant(&segment).into_response_for(&headers),
        Err(error) => return OAuthError::server(&error).into_response_for(&headers),
    };
    let base = format!("{}/{}", state.base_uri(), scope.segment());
    let issuer = match &scope {
        TenantScope::One(tenant) => issuer(&tenant.id),
        TenantScope::Any(_) => format!("{ISSUER_AUTHORITY}/{{tenantid}}/v2.0"),
    };
    Json(OpenIdConfiguration {
        issuer,
        authorization_endpoint: format!("{base}/oauth2/v2.0/authorize"),
        token_endpoint: format!("{base}/oauth2/v2.0/token"),
        device_authorization_endpoint: format!("{base}/oauth2/v2.0/devicecode"),
        jwks_uri: format!("{base}/discovery/v2.0/keys"),
        response_types_supported: ["code"],
        response_modes_supported: ["query"],
        grant_types_supported: [
            "authorization_code",
            "urn:ietf:params:oauth:grant-type:device_code",
            "refresh_token",
            "client_credentials",
        ],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        token_endpoint_auth_methods_supported: ["client_secret_post", "none"],
        code_challenge_methods_supported: ["S256"],
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        claims_supported: [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "nbf",
            "name",
            "nonce",
            "oid",
            "preferred_username",
            "tid",
            "ver",
        ],
        tenant_region_scope: None,
        cloud_instance_name: "emulator.local",
        request_uri_parameter_supported: false,
    })
    .into_response()
}

#[derive(Debug, Serialize)]
pub(super) struct Jwks {
    keys: Vec<Jwk>,
}

/// `GET /discovery/v2.0/keys` (and under any `{tenant}`): the signing key, as a JWKS.
pub(super) async fn keys(State(state): State<AppState>) -> Json<Jwks> {
    Json(Jwks {
        keys: vec![state.key().jwk()],
    })
}
