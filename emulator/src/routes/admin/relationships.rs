//! Delegated admin relationships (GDAP) between a partner tenant and its customers.
//!
//! - `GET /admin/relationships[?partner=T][&customer=T]`: `{"items":[relationship]}`, by customer
//!   name (see [`RelationshipView`]; `status` is `active` or `expired`).
//! - `POST /admin/relationships` with a [`NewRelationship`]
//!   (`{"partner","customer","roles":[...][,"users":[UPN...]][,"expires"][,"id"][,"displayName"]}`):
//!   `201` with the relationship. `users` defaults to every user of the partner, `expires`
//!   (RFC 3339 or `+N` days) to two years from now.
//! - `GET /admin/relationships/{id}`: one relationship.
//! - `PUT /admin/relationships/{id}` with a [`RelationshipUpdate`]
//!   (`{"roles"?,"users"?,"expires"?,"displayName"?}`): the relationship after the change; an
//!   `expires` in the past expires it.
//! - `POST /admin/relationships/{id}/expire`: ends it now; the relationship.
//! - `DELETE /admin/relationships/{id}`: removes it (`204`).
//!
//! A request that makes no sense is a 400; an unknown tenant or relationship a 404. Changes take
//! effect at the next request: the licensing API checks the relationship at every call.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::json_body;
use super::tenants::Items;
use crate::error::ApiError;
use crate::gdap::{self, GdapError, NewRelationship, RelationshipUpdate, RelationshipView};
use crate::routes::{ApiPath, ApiQuery};
use crate::AppState;

impl From<GdapError> for ApiError {
    fn from(error: GdapError) -> Self {
        match error {
            GdapError::UnknownTenant(_) | GdapError::UnknownRelationship(_) => {
                ApiError::NotFound(error.to_string())
            }
            GdapError::Invalid(_) | GdapError::Exists(_) => ApiError::BadRequest(error.to_string()),
            GdapError::Store(error) => ApiError::Store(error),
        }
    }
}

/// The filter of the list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    partner: Option<String>,
    customer: Option<String>,
}

/// `GET /admin/relationships`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Items<RelationshipView>>, ApiError> {
    let items = gdap::list(
        state.store(),
        query.partner.as_deref(),
        query.customer.as_deref(),
    )
    .await?;
    Ok(Json(Items::new(items)))
}

/// `POST /admin/relationships`.
pub async fn add(
    State(state): State<AppState>,
    body: Result<Json<NewRelationship>, JsonRejection>,
) -> Result<(StatusCode, Json<RelationshipView>), ApiError> {
    let new = json_body(
        body,
        "{\"partner\": \"...\", \"customer\": \"...\", \"roles\": [\"Billing Administrator\"]}",
    )?;
    Ok((
        StatusCode::CREATED,
        Json(gdap::add(state.store(), &new).await?),
    ))
}

/// `GET /admin/relationships/{id}`.
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RelationshipView>, ApiError> {
    Ok(Json(gdap::view(state.store(), &id).await?))
}

/// `PUT /admin/relationships/{id}`.
pub async fn change(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    body: Result<Json<RelationshipUpdate>, JsonRejection>,
) -> Result<Json<RelationshipView>, ApiError> {
    let update = json_body(
        body,
        "{\"roles\": [...], \"users\": [...], \"expires\": \"...\"}",
    )?;
    Ok(Json(gdap::change(state.store(), &id, &update).await?))
}

/// `POST /admin/relationships/{id}/expire`.
pub async fn expire(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RelationshipView>, ApiError> {
    Ok(Json(gdap::expire(state.store(), &id).await?))
}

/// `DELETE /admin/relationships/{id}`.
pub async fn remove(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    gdap::remove(state.store(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
