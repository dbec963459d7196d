//! Managed identity endpoints, for tests on this machine of clients that run "in Azure": the
//! platform's local token endpoints, which hand the identities' app-only tokens to whoever may
//! call them.
//!
//! | method and path | what |
//! |---|---|
//! | `GET /msi/token?api-version=2019-08-01&resource=R[&client_id\|mi_res_id\|principal_id=X]` | App Service and Functions (`IDENTITY_ENDPOINT`), with `X-IDENTITY-HEADER: <secret>` |
//! | `GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R[&client_id\|msi_res_id\|object_id=X]` | the instance metadata service (VMs, Arc), with `Metadata: true` |
//!
//! Without a selector the system-assigned identity answers; `client_id` picks an identity by app
//! id, `mi_res_id`/`msi_res_id` a user-assigned one by the last segment of its resource id (its
//! display name), `principal_id`/`object_id` one by its service principal's object id. The
//! identities are app registrations flagged as managed identities (`add-app --managed-identity`);
//! their tokens are app-only tokens of their home tenant, with their granted permissions.
//! Errors are `{"error","error_description"}`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::model::{AppRegistration, ManagedIdentity};
use crate::store::StoreError;
use crate::tokens::{AccessClaims, RESOURCE_APP_ID};
use crate::{apps, clock, secrets, AppState};

/// The App Service style endpoint's path.
pub const APP_SERVICE_PATH: &str = "/msi/token";

/// The instance metadata service style endpoint's path.
pub const IMDS_PATH: &str = "/metadata/identity/oauth2/token";

/// The header that carries the App Service endpoint's secret.
const IDENTITY_HEADER: &str = "x-identity-header";

/// The api-version the App Service style endpoint serves.
const APP_SERVICE_API_VERSION: &str = "2019-08-01";

/// The routes of the managed identity endpoints, at the root of the server.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(APP_SERVICE_PATH, get(app_service))
        .route(IMDS_PATH, get(imds))
        .method_not_allowed_fallback(super::method_not_allowed)
}

/// The query of either endpoint.
#[derive(Debug, Default, Deserialize)]
pub struct IdentityQuery {
    #[serde(rename = "api-version")]
    api_version: Option<String>,
    resource: Option<String>,
    client_id: Option<String>,
    mi_res_id: Option<String>,
    msi_res_id: Option<String>,
    object_id: Option<String>,
    principal_id: Option<String>,
}

/// A token answer; the IMDS one also says how long the token lives.
#[derive(Debug, Serialize)]
struct IdentityToken {
    access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<String>,
    expires_on: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ext_expires_in: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_before: Option<String>,
    resource: String,
    token_type: &'static str,
    client_id: String,
}

/// An error answer: `{"error","error_description"}`.
#[derive(Debug)]
struct IdentityError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl IdentityError {
    fn bad_request(description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description: description.into(),
        }
    }
}

impl From<StoreError> for IdentityError {
    fn from(error: StoreError) -> Self {
        tracing::error!(%error, "the managed identity endpoint failed in the store");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: "server_error",
            description: "The service could not process the request.".into(),
        }
    }
}

impl IntoResponse for IdentityError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.error, "error_description": self.description});
        no_store((self.status, Json(body)).into_response())
    }
}

/// `GET /msi/token`: App Service style; needs `X-IDENTITY-HEADER` with the server's secret.
async fn app_service(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<IdentityQuery>, QueryRejection>,
) -> Response {
    let presented = headers
        .get(IDENTITY_HEADER)
        .and_then(|value| value.to_str().ok());
    let answer = match presented {
        None => Err(IdentityError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_request",
            description: "The request needs the X-IDENTITY-HEADER header (the value of \
                          IDENTITY_HEADER)."
                .into(),
        }),
        Some(value) if !secrets::constant_time_eq(value, state.identity_header()) => {
            Err(IdentityError {
                status: StatusCode::UNAUTHORIZED,
                error: "invalid_request",
                description: "The X-IDENTITY-HEADER header is not this endpoint's secret.".into(),
            })
        }
        Some(_) => match query {
            Ok(Query(query)) => {
                if query.api_version.as_deref() != Some(APP_SERVICE_API_VERSION) {
                    Err(IdentityError::bad_request(format!(
                        "The api-version must be {APP_SERVICE_API_VERSION}."
                    )))
                } else {
                    let selector = [
                        ("client_id", &query.client_id),
                        ("mi_res_id", &query.mi_res_id),
                        ("principal_id", &query.principal_id),
                    ];
                    issue(&state, query.resource.as_deref(), &selector, false).await
                }
            }
            Err(_) => Err(IdentityError::bad_request("The query string is malformed.")),
        },
    };
    match answer {
        Ok(token) => no_store(Json(token).into_response()),
        Err(error) => error.into_response(),
    }
}

/// `GET /metadata/identity/oauth2/token`: instance metadata service style; needs
/// `Metadata: true`.
async fn imds(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<IdentityQuery>, QueryRejection>,
) -> Response {
    let metadata = headers
        .get("metadata")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("true"));
    let answer = if !metadata {
        Err(IdentityError::bad_request(
            "Required metadata header not specified",
        ))
    } else {
        match query {
            Ok(Query(query)) => {
                if query.api_version.as_deref().is_none_or(str::is_empty) {
                    Err(IdentityError::bad_request(
                        "Required query variable 'api-version' is missing",
                    ))
                } else {
                    let selector = [
                        ("client_id", &query.client_id),
                        ("msi_res_id", &query.msi_res_id),
                        ("object_id", &query.object_id),
                    ];
                    issue(&state, query.resource.as_deref(), &selector, true).await
                }
            }
            Err(_) => Err(IdentityError::bad_request("The query string is malformed.")),
        }
    };
    match answer {
        Ok(token) => no_store(Json(token).into_response()),
        Err(error) => error.into_response(),
    }
}

/// The token of the identity the selector picks, for `resource`.
async fn issue(
    state: &AppState,
    resource: Option<&str>,
    selector: &[(&str, &Option<String>)],
    imds: bool,
) -> Result<IdentityToken, IdentityError> {
    let resource = resource.filter(|r| !r.is_empty()).ok_or_else(|| {
        IdentityError::bad_request("Required query variable 'resource' is missing")
    })?;
    if !is_licensing_resource(resource) {
        return Err(IdentityError {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_resource",
            description: format!(
                "AADSTS500011: The resource principal named {resource} was not found in the \
                 tenant. The emulator issues tokens for the licensing service only: \
                 {RESOURCE_APP_ID}."
            ),
        });
    }
    let given: Vec<(&str, &str)> = selector
        .iter()
        .filter_map(|(name, value)| value.as_deref().map(|value| (*name, value)))
        .collect();
    let identity = match given.as_slice() {
        [] => {
            find_identity(state, |app| {
                app.managed_identity == Some(ManagedIdentity::System)
            })
            .await?
        }
        [("client_id", id)] => {
            find_identity(state, |app| app.client_id.eq_ignore_ascii_case(id)).await?
        }
        [(name, id)] if name.ends_with("res_id") => {
            let last = id
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default();
            find_identity(state, |app| {
                app.managed_identity == Some(ManagedIdentity::User)
                    && app.display_name.eq_ignore_ascii_case(last)
            })
            .await?
        }
        [(_, id)] => {
            let mut found = None;
            for app in all_identities(state).await? {
                if principal_of(state, &app)
                    .await?
                    .is_some_and(|p| p.eq_ignore_ascii_case(id))
                {
                    found = Some(app);
                    break;
                }
            }
            found
        }
        _ => {
            return Err(IdentityError::bad_request(
                "Name at most one identity: client_id, a resource id or an object id.",
            ))
        }
    }
    .ok_or_else(|| IdentityError::bad_request("Identity not found"))?;
    let principal = principal_of(state, &identity)
        .await?
        .ok_or_else(|| IdentityError::bad_request("Identity not found"))?;
    let tenant = identity
        .home_tenant_id
        .clone()
        .ok_or_else(|| IdentityError::bad_request("Identity not found"))?;
    let lifetime = state.settings().app_token_lifetime();
    let now = clock::now_s();
    let claims = AccessClaims::for_app(&tenant, &identity, &principal, now, i64::from(lifetime));
    let token = state.key().sign(&claims).map_err(|error| {
        tracing::error!(%error, "cannot sign a token");
        IdentityError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: "server_error",
            description: "The service could not sign the token.".into(),
        }
    })?;
    tracing::info!(client_id = %identity.client_id, tenant = %tenant, "issued a managed identity token");
    Ok(IdentityToken {
        access_token: token,
        expires_in: imds.then(|| lifetime.to_string()),
        expires_on: claims.exp.to_string(),
        ext_expires_in: imds.then(|| lifetime.to_string()),
        not_before: imds.then(|| claims.nbf.to_string()),
        resource: resource.to_owned(),
        token_type: "Bearer",
        client_id: identity.client_id,
    })
}

/// Whether `resource` names the licensing service: its app id, or `api://` and it, with or
/// without a trailing `/` or `/.default`.
fn is_licensing_resource(resource: &str) -> bool {
    let trimmed = resource.trim();
    let trimmed = trimmed.strip_suffix("/.default").unwrap_or(trimmed);
    let trimmed = trimmed.trim_end_matches('/');
    let trimmed = trimmed.strip_prefix("api://").unwrap_or(trimmed);
    trimmed.eq_ignore_ascii_case(RESOURCE_APP_ID)
}

async fn all_identities(state: &AppState) -> Result<Vec<AppRegistration>, StoreError> {
    let mut identities = state
        .store()
        .managed_identities(ManagedIdentity::System)
        .await?;
    identities.extend(
        state
            .store()
            .managed_identities(ManagedIdentity::User)
            .await?,
    );
    Ok(identities)
}

async fn find_identity(
    state: &AppState,
    matches: impl Fn(&AppRegistration) -> bool,
) -> Result<Option<AppRegistration>, StoreError> {
    Ok(all_identities(state)
        .await?
        .into_iter()
        .find(|app| matches(app)))
}

/// The identity's service principal in its home tenant.
async fn principal_of(
    state: &AppState,
    identity: &AppRegistration,
) -> Result<Option<String>, StoreError> {
    let Some(home) = &identity.home_tenant_id else {
        return Ok(None);
    };
    let Some(tenant) = state.store().find_tenant(home.as_str()).await? else {
        return Ok(None);
    };
    apps::service_principal(state.store(), identity, &tenant).await
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_licensing_resource_is_named_in_the_usual_ways() {
        for name in [
            RESOURCE_APP_ID,
            "AEB86249-8ea3-49e2-900b-54cc8e308f85/",
            "api://aeb86249-8ea3-49e2-900b-54cc8e308f85",
            "aeb86249-8ea3-49e2-900b-54cc8e308f85/.default",
        ] {
            assert!(is_licensing_resource(name), "{name}");
        }
        assert!(!is_licensing_resource("https://management.azure.com/"));
    }
}
