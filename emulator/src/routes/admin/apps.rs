//! App registrations for app-only sign-in, the managed identity endpoint's secret and federated
//! tokens for tests.
//!
//! - `GET /admin/apps`: `{"items":[app]}`, by display name, never a secret (see
//!   [`AppView`]).
//! - `POST /admin/apps` with a [`NewApp`]: registers it, consented in its home tenant; `201` with
//!   the app. A request that makes no sense is a 400, an unknown tenant a 404.
//! - `POST /admin/apps/{appId}/consent` `{"tenant"}`: the tenant consents to the app;
//!   `{"appId","tenantId","servicePrincipalId"}`. An unknown app or tenant is a 404; another
//!   tenant than the home tenant of a single-tenant app a 400.
//! - `GET /admin/identity`: `{"identityEndpoint","identityHeader","imdsEndpoint"}`, what a client
//!   that uses a managed identity needs (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`, and the base of
//!   the instance metadata service).
//! - `POST /admin/federated-tokens` `{"subject"[,"audience"][,"lifetimeSeconds"]}`: a token of the
//!   emulator's federation issuer, `{"token","issuer","subject","audience","expiresOn"}`.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::json_body;
use super::tenants::Items;
use crate::apps::{self, AppError, AppView, ConsentView, NewApp};
use crate::error::ApiError;
use crate::routes::identity::{APP_SERVICE_PATH, IMDS_PATH};
use crate::routes::ApiPath;
use crate::tokens::{self, FEDERATION_ISSUER};
use crate::{clock, AppState};

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::UnknownTenant(_) | AppError::UnknownApp(_) => {
                ApiError::NotFound(error.to_string())
            }
            AppError::Invalid(_) | AppError::Exists(_) | AppError::Certificate { .. } => {
                ApiError::BadRequest(error.to_string())
            }
            AppError::Store(error) => ApiError::Store(error),
        }
    }
}

/// `GET /admin/apps`.
pub async fn list(State(state): State<AppState>) -> Result<Json<Items<AppView>>, ApiError> {
    Ok(Json(Items::new(apps::list(state.store()).await?)))
}

/// `POST /admin/apps`.
pub async fn add(
    State(state): State<AppState>,
    body: Result<Json<NewApp>, JsonRejection>,
) -> Result<(StatusCode, Json<AppView>), ApiError> {
    let new = json_body(
        body,
        "{\"displayName\": \"...\", \"roles\": [\"Policy.ReadWrite.AllowSelfServicePurchase\"], \
         \"secrets\": [\"...\"]}",
    )?;
    let app = apps::register(state.store(), &new).await?;
    Ok((StatusCode::CREATED, Json(app)))
}

/// The body of a consent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    tenant: String,
}

/// `POST /admin/apps/{appId}/consent`.
pub async fn consent(
    State(state): State<AppState>,
    ApiPath(app_id): ApiPath<String>,
    body: Result<Json<ConsentRequest>, JsonRejection>,
) -> Result<Json<ConsentView>, ApiError> {
    let request = json_body(body, "{\"tenant\": \"...\"}")?;
    Ok(Json(
        apps::consent(state.store(), &app_id, &request.tenant).await?,
    ))
}

/// What a managed identity client needs.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityBody {
    identity_endpoint: String,
    identity_header: String,
    imds_endpoint: String,
}

/// `GET /admin/identity`.
pub async fn identity(State(state): State<AppState>) -> Json<IdentityBody> {
    Json(IdentityBody {
        identity_endpoint: format!("{}{APP_SERVICE_PATH}", state.base_uri()),
        identity_header: state.identity_header().to_owned(),
        imds_endpoint: format!("{}{IMDS_PATH}", state.base_uri()),
    })
}

/// The body of `POST /admin/federated-tokens`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FederatedRequest {
    subject: String,
    audience: Option<String>,
    lifetime_seconds: Option<i64>,
}

/// A federated token.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FederatedBody {
    token: String,
    issuer: &'static str,
    subject: String,
    audience: String,
    /// Unix seconds.
    expires_on: i64,
}

/// `POST /admin/federated-tokens`.
pub async fn federated_token(
    State(state): State<AppState>,
    body: Result<Json<FederatedRequest>, JsonRejection>,
) -> Result<Json<FederatedBody>, ApiError> {
    let request = json_body(body, "{\"subject\": \"...\"}")?;
    if request.subject.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "The subject must not be empty.".into(),
        ));
    }
    let audience = request
        .audience
        .unwrap_or_else(|| tokens::FEDERATED_AUDIENCE.to_owned());
    let minted = tokens::mint_federated(
        state.key(),
        &request.subject,
        Some(&audience),
        clock::now_s(),
        request.lifetime_seconds.unwrap_or(600),
    )
    .map_err(|error| ApiError::Internal(error.to_string()))?;
    Ok(Json(FederatedBody {
        token: minted.token,
        issuer: FEDERATION_ISSUER,
        subject: request.subject,
        audience,
        expires_on: minted.expires_on,
    }))
}
