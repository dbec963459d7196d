//! `POST /admin/tenants/{tenant}/products`: adds products to a tenant, for tests and benchmarks
//! that need a big catalog (the body is a [`AddProducts`]: `{"count": 1000}` or
//! `{"products": [{"productId", "productName"}]}`, see [`crate::products`]).
//!
//! Answers `{"tenantId","added":[ids],"unchanged":N,"total":N}`: the products the tenant did not
//! have (the others are left as they are, so a second run adds nothing), how many it already had,
//! and how many it has now. An unknown tenant is a 404; a request that makes no sense (or an old,
//! replaced product id) a 400 that changes nothing.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::Json;

use super::json_body;
use crate::error::ApiError;
use crate::products::{self, AddProducts, AddProductsError, ProductsAdded};
use crate::routes::ApiPath;
use crate::AppState;

/// `POST /admin/tenants/{tenant}/products`.
pub async fn add(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    body: Result<Json<AddProducts>, JsonRejection>,
) -> Result<Json<ProductsAdded>, ApiError> {
    let request = json_body(
        body,
        "{\"count\": <1 to 20000>} or {\"products\": [{\"productId\": \"...\", \"productName\": \"...\"}]}",
    )?;
    let added = products::add_products(state.store(), &tenant, &request)
        .await
        .map_err(|error| match error {
            AddProductsError::UnknownTenant(_) => ApiError::NotFound(error.to_string()),
            AddProductsError::Invalid(_) | AddProductsError::OldId(_) => {
                ApiError::BadRequest(error.to_string())
            }
            AddProductsError::Store(error) => ApiError::Store(error),
        })?;
    tracing::info!(
        tenant = %added.tenant_id, added = added.added.len(), unchanged = added.unchanged,
        total = added.total, "products added"
    );
    Ok(Json(added))
}
