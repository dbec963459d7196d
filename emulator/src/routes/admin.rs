//! The admin area under `/admin`, for people, tests and tools on the same machine: loopback
//! clients only (403 otherwise). JSON in and out, but for the page.
//!
//! | method and path | answer |
//! |---|---|
//! | `GET /admin[?tenant=T]` | the HTML page of a tenant's settings and change history ([`page`]) |
//! | `GET /tenants` | `{"items":[{"id","name","domain"}]}` |
//! | `GET /tenants/{tenant}/audit[?top=N]` | the tenant's changes, newest first ([`tenants`]) |
//! | `POST /tenants/{tenant}/products` | adds (generated) products to the tenant ([`products`]) |
//! | `POST /tokens` `{"tenant","user"[,"lifetimeSeconds"]}` | `{"accessToken","expiresOn"}` |
//! | `GET`, `PUT`, `DELETE /faults` | the faults injected into the licensing API ([`knobs`]) |
//! | `GET`, `DELETE /requests` | the licensing requests counted by method and path ([`knobs`]) |
//! | `GET`, `PUT /settings` | the authority's lifetimes ([`knobs`]) |
//! | `GET`, `POST /apps`, `POST /apps/{appId}/consent` | app registrations for app-only sign-in ([`apps`]) |
//! | `GET /identity` | the managed identity endpoints and their secret ([`apps`]) |
//! | `GET`, `POST /relationships`, `GET`, `PUT`, `DELETE /relationships/{id}`, `POST /relationships/{id}/expire` | delegated admin relationships (GDAP) ([`relationships`]) |
//! | `POST /federated-tokens` `{"subject"[,"audience"][,"lifetimeSeconds"]}` | a federated token for tests ([`apps`]) |

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::tokens::{self, MintError};
use crate::{clock, AppState};

pub mod apps;
pub mod knobs;
pub mod page;
pub mod products;
pub mod relationships;
pub mod tenants;

/// The routes of this area, relative to `/admin`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(page::page))
        .route("/tenants", get(tenants::list))
        .route("/tenants/{tenant}/audit", get(tenants::audit))
        .route("/tenants/{tenant}/products", post(products::add))
        .route("/tokens", post(mint_token))
        .route("/apps", get(apps::list).post(apps::add))
        .route("/apps/{app_id}/consent", post(apps::consent))
        .route("/identity", get(apps::identity))
        .route("/federated-tokens", post(apps::federated_token))
        .route(
            "/relationships",
            get(relationships::list).post(relationships::add),
        )
        .route(
            "/relationships/{id}",
            get(relationships::get)
                .put(relationships::change)
                .delete(relationships::remove),
        )
        .route("/relationships/{id}/expire", post(relationships::expire))
        .route(
            "/faults",
            get(knobs::get_faults)
                .put(knobs::put_faults)
                .delete(knobs::clear_faults),
        )
        .route(
            "/requests",
            get(knobs::get_requests).delete(knobs::clear_requests),
        )
        .route(
            "/settings",
            get(knobs::get_settings).put(knobs::put_settings),
        )
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

/// `POST /admin/tokens`: an access token for a user, as the `token` command mints it (a partner
/// user's for a customer tenant through an active delegated admin relationship). The lifetime
/// defaults to the server's token lifetime; a negative one gives an expired token.
async fn mint_token(
    State(state): State<AppState>,
    body: Result<Json<TokenRequest>, JsonRejection>,
) -> Result<Json<TokenAnswer>, ApiError> {
    let request = json_body(body, r#"{"tenant": "...", "user": "..."}"#)?;
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
        MintError::NoAccess { tenant, upn } => ApiError::NotFound(format!(
            "User '{upn}' was not found in tenant '{tenant}', and no active delegated admin \
             relationship gives them a role there."
        )),
        MintError::Store(error) => ApiError::Store(error),
        MintError::Key(error) => ApiError::Internal(error.to_string()),
    })?;
    Ok(Json(TokenAnswer {
        access_token: minted.token,
        expires_on: minted.expires_on,
    }))
}

/// The body of a JSON request, or a 400 that says what `shape` it should have and what is wrong.
fn json_body<T>(body: Result<Json<T>, JsonRejection>, shape: &str) -> Result<T, ApiError> {
    body.map(|Json(value)| value).map_err(|rejection| {
        ApiError::BadRequest(format!(
            "The request body must be {shape}: {}",
            rejection.body_text()
        ))
    })
}

/// The tenant whose id, name or domain is `key`, or a 404.
async fn find_tenant(state: &AppState, key: &str) -> Result<crate::model::Tenant, ApiError> {
    state
        .store()
        .find_tenant(key)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Tenant '{key}' was not found.")))
}
