//! The licensing API under `/v1.0`: policies and their values for products and offer types.
//!
//! | method and path | answer |
//! |---|---|
//! | `GET /policies` | `{"items":[policy]}` |
//! | `GET /policies/{policyId}` | `policy` |
//! | `GET /policies/{policyId}/products?scope=product` (default) | `{"items":[product item]}` |
//! | `GET /policies/{policyId}/products?scope=OfferType` | `{"items":[offer type item]}` |
//! | `GET /policies/{policyId}/products/{productId}` | `product item` |
//! | `GET /policies/{policyId}/offerTypes/{offerType}` | `offer type item` |
//!
//! Ids are matched ignoring case; an old product id serves the product that replaced it.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};

use super::{ApiPath, ApiQuery};
use crate::error::ApiError;
use crate::model::{OfferTypePolicy, Policy, ProductPolicy, TenantId};
use crate::store::Store;
use crate::AppState;

/// The routes of this area, relative to `/v1.0`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/policies", get(list_policies))
        .route("/policies/{policy_id}", get(get_policy))
        .route("/policies/{policy_id}/products", get(list_product_policies))
        .route(
            "/policies/{policy_id}/products/{product_id}",
            get(get_product_policy),
        )
        .route(
            "/policies/{policy_id}/offerTypes/{offer_type}",
            get(get_offer_type_policy),
        )
}

/// A list body: `{"items": [...]}`.
#[derive(Debug, Serialize)]
struct Items<T> {
    items: Vec<T>,
}

/// A policy on the wire.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PolicyBody {
    id: String,
    description: String,
    default_value: &'static str,
}

impl From<Policy> for PolicyBody {
    fn from(policy: Policy) -> Self {
        Self {
            id: policy.id,
            description: policy.description,
            default_value: policy.default_value.as_str(),
        }
    }
}

/// A product's setting on the wire.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProductItem {
    policy_id: String,
    policy_value: &'static str,
    product_name: String,
    product_id: String,
}

impl From<ProductPolicy> for ProductItem {
    fn from(item: ProductPolicy) -> Self {
        Self {
            policy_id: item.policy_id,
            policy_value: item.policy_value.as_str(),
            product_name: item.product_name,
            product_id: item.product_id,
        }
    }
}

/// An offer type's setting on the wire.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OfferTypeItem {
    policy_id: String,
    policy_value: &'static str,
    scope: &'static str,
    scope_id: String,
    scope_value: String,
}

impl From<OfferTypePolicy> for OfferTypeItem {
    fn from(item: OfferTypePolicy) -> Self {
        Self {
            policy_id: item.policy_id,
            policy_value: item.policy_value.as_str(),
            scope: Scope::OFFER_TYPE,
            scope_id: item.offer_type_id,
            scope_value: item.offer_type_name,
        }
    }
}

/// What a product list covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Product,
    OfferType,
}

impl Scope {
    const PRODUCT: &'static str = "product";
    const OFFER_TYPE: &'static str = "OfferType";

    /// Parses the `scope` query parameter, ignoring case; absent means products.
    fn parse(scope: Option<&str>) -> Result<Self, ApiError> {
        match scope {
            None => Ok(Self::Product),
            Some(scope) if scope.eq_ignore_ascii_case(Self::PRODUCT) => Ok(Self::Product),
            Some(scope) if scope.eq_ignore_ascii_case(Self::OFFER_TYPE) => Ok(Self::OfferType),
            Some(_) => Err(ApiError::BadRequest("Invalid scope.".to_owned())),
        }
    }
}

#[derive(Debug, Deserialize)]
struct ScopeQuery {
    scope: Option<String>,
}

async fn list_policies(
    State(state): State<AppState>,
    Extension(tenant): Extension<TenantId>,
) -> Result<Json<Items<PolicyBody>>, ApiError> {
    let policies = state.store().policies(&tenant).await?;
    Ok(Json(Items {
        items: policies.into_iter().map(PolicyBody::from).collect(),
    }))
}

async fn get_policy(
    State(state): State<AppState>,
    Extension(tenant): Extension<TenantId>,
    ApiPath(policy_id): ApiPath<String>,
) -> Result<Json<PolicyBody>, ApiError> {
    let policy = find_policy(state.store(), &tenant, &policy_id).await?;
    Ok(Json(policy.into()))
}

async fn list_product_policies(
    State(state): State<AppState>,
    Extension(tenant): Extension<TenantId>,
    ApiPath(policy_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ScopeQuery>,
) -> Result<Response, ApiError> {
    let scope = Scope::parse(query.scope.as_deref())?;
    let store = state.store();
    let policy = find_policy(store, &tenant, &policy_id).await?;
    Ok(match scope {
        Scope::Product => {
            let items = store.product_policies(&tenant, &policy.id).await?;
            Json(Items {
                items: items.into_iter().map(ProductItem::from).collect(),
            })
            .into_response()
        }
        Scope::OfferType => {
            let items = store.offer_type_policies(&tenant, &policy.id).await?;
            Json(Items {
                items: items.into_iter().map(OfferTypeItem::from).collect(),
            })
            .into_response()
        }
    })
}

async fn get_product_policy(
    State(state): State<AppState>,
    Extension(tenant): Extension<TenantId>,
    ApiPath((policy_id, product_id)): ApiPath<(String, String)>,
) -> Result<Json<ProductItem>, ApiError> {
    let store = state.store();
    let policy = find_policy(store, &tenant, &policy_id).await?;
    let item = store
        .product_policy(&tenant, &policy.id, &product_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Product '{product_id}' was not found.")))?;
    Ok(Json(item.into()))
}

async fn get_offer_type_policy(
    State(state): State<AppState>,
    Extension(tenant): Extension<TenantId>,
    ApiPath((policy_id, offer_type)): ApiPath<(String, String)>,
) -> Result<Json<OfferTypeItem>, ApiError> {
    let store = state.store();
    let policy = find_policy(store, &tenant, &policy_id).await?;
    let item = store
        .offer_type_policy(&tenant, &policy.id, &offer_type)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Offer type '{offer_type}' was not found.")))?;
    Ok(Json(item.into()))
}

/// The tenant's policy `policy_id`, or the service's 404.
async fn find_policy(
    store: &Store,
    tenant: &TenantId,
    policy_id: &str,
) -> Result<Policy, ApiError> {
    store
        .policy(tenant, policy_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Policy '{policy_id}' was not found.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_is_parsed_ignoring_case() {
        assert_eq!(Scope::parse(None).unwrap(), Scope::Product);
        assert_eq!(Scope::parse(Some("PRODUCT")).unwrap(), Scope::Product);
        assert_eq!(Scope::parse(Some("offertype")).unwrap(), Scope::OfferType);
        assert!(Scope::parse(Some("")).is_err());
        assert!(Scope::parse(Some("products")).is_err());
    }
}
