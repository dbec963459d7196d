//! The admin area under `/admin`, for tests and tools on the same machine: loopback clients
//! only (403 otherwise).
//!
//! | method and path | answer |
//! |---|---|
//! | `POST /tokens` `{"tenant","user"[,"lifetimeSeconds"]}` | `{"accessToken","expiresOn"}` |

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::tokens::{self, MintError};
use crate::{clock, AppState};

/// The routes of this area, relative to `/admin`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tokens", post(mint_token))
        .method_not_allowed_fallback(super::method_not_allowed)
        .fallback(super::no_route)
        .layer(axum::middleware::from_fn(loopback_only))
}

/// Refuses (403) a client that is not on this machine, or whose address is not known.
async fn loopback_only(request: Request, next: Next) -> Result<Response, ApiError> {
    let loopback = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| peer.ip().is_loopback());
    if loopback {
        Ok(next.run(request).await)
    } else {
        Err(ApiError::Forbidden(
            "The admin area answers clients on this machine only.".to_owned(),
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenRequest {
    tenant: String,
    user: String,
    lifetime_seconds: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenAnswer {
    access_token: String,
    /// Unix seconds.
    expires_on: i64,
}

/// `POST /admin/tokens`: an access token for a user, as the `token` command mints it. The
/// lifetime defaults to the server's token lifetime; a negative one gives an expired token.
async fn mint_token(
    State(state): State<AppState>,
    body: Result<Json<TokenRequest>, JsonRejection>,
) -> Result<Json<TokenAnswer>, ApiError> {
    let Json(request) = body.map_err(|rejection| {
        ApiError::BadRequest(format!(
            "The request body must be {{\"tenant\": \"...\", \"user\": \"...\"}}: {}",
            rejection.body_text()
        ))
    })?;
    let lifetime = request
        .lifetime_seconds
        .unwrap_or_else(|| i64::from(state.settings().token_lifetime_s));
    let minted = tokens::mint_user_token(
        state.store(),
        state.key(),
        &request.tenant,
        &request.user,
        clock::now_s(),
        lifetime,
    )
    .await
    .map_err(|error| match error {
        MintError::UnknownTenant(tenant) => {
            ApiError::NotFound(format!("Tenant '{tenant}' was not found."))
        }
        MintError::UnknownUser { tenant, upn } => {
            ApiError::NotFound(format!("User '{upn}' was not found in tenant '{tenant}'."))
        }
        MintError::Store(error) => ApiError::Store(error),
        MintError::Key(error) => ApiError::Internal(error.to_string()),
    })?;
    Ok(Json(TokenAnswer {
        access_token: minted.token,
        expires_on: minted.expires_on,
    }))
}
