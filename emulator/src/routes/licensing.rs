//! The licensing API under `/v1.0` (and, identically, `/v1`, see [`PREFIXES`]): policies and
//! their values for products and offer types.
//!
//! | method and path | answer |
//! |---|---|
//! | `GET /policies` | `{"items":[policy]}` |
//! | `GET /policies/{policyId}` | `policy` |
//! | `GET /policies/{policyId}/products?scope=product` (default) | `{"items":[product item]}` |
//! | `GET /policies/{policyId}/products?scope=OfferType` | `{"items":[offer type item]}` |
//! | `GET /policies/{policyId}/products/{productId}` | `product item` |
//! | `GET /policies/{policyId}/offerTypes/{offerType}` | `offer type item` |
//! | `PUT /policies/{policyId}/products/{productId}` `{"policyValue": "..."}` | `product item` |
//! | `PUT /policies/{policyId}/offerTypes/{offerType}` `{"policyValue": "..."}` | `offer type item` |
//!
//! Ids are matched ignoring case; an old product id serves (and sets) the product that replaced
//! it. Values are matched ignoring case too and answered as the service spells them. Every item
//! carries its `scope`: `product` for a product (with `productId`/`productName`), `OfferType` for
//! an offer type (with `scopeId`/`scopeValue`); clients such as Microsoft's own module tell the
//! two apart by it.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ApiPath, ApiQuery};
use crate::error::ApiError;
use crate::middleware::{self, Caller};
use crate::model::{ChangeContext, OfferTypePolicy, Policy, PolicyValue, ProductPolicy, TenantId};
use crate::store::{SetOutcome, Store};
use crate::AppState;

const POLICIES: &str = "/policies";
const POLICY: &str = "/policies/{policy_id}";
const PRODUCTS: &str = "/policies/{policy_id}/products";
const PRODUCT: &str = "/policies/{policy_id}/products/{product_id}";
const OFFER_TYPE: &str = "/policies/{policy_id}/offerTypes/{offer_type}";

/// The prefixes the licensing API is served under, each the same [`router`]: `/v1.0`, what
/// Microsoft's module calls, and `/v1`, which the real service answers too (Microsoft365DSC
/// calls it).
pub const PREFIXES: [&str; 2] = ["/v1.0", "/v1"];

/// The path below its prefix (`/policies/...`, or empty for the prefix alone) of a licensing API
/// path (under one of [`PREFIXES`]); `None` for any other path.
pub fn route_path(path: &str) -> Option<&str> {
    PREFIXES.iter().find_map(|prefix| {
        let rest = path.strip_prefix(prefix)?;
        (rest.is_empty() || rest.starts_with('/')).then_some(rest)
    })
}

/// Every route of this area as (method, path relative to a prefix of [`PREFIXES`], in axum's
/// syntax): what [`router`] serves and `openapi.json` documents.
pub const ROUTES: [(&str, &str); 7] = [
    ("GET", POLICIES),
    ("GET", POLICY),
    ("GET", PRODUCTS),
    ("GET", PRODUCT),
    ("PUT", PRODUCT),
    ("GET", OFFER_TYPE),
    ("PUT", OFFER_TYPE),
];

/// The routes of this area, relative to a prefix (see [`PREFIXES`]).
pub fn router() -> Router<AppState> {
    Router::new()
        .route(POLICIES, get(list_policies))
        .route(POLICY, get(get_policy))
        .route(PRODUCTS, get(list_product_policies))
        .route(PRODUCT, get(get_product_policy).put(put_product_policy))
        .route(
            OFFER_TYPE,
            get(get_offer_type_policy).put(put_offer_type_policy),
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
    // Microsoft's module prints an item as a product only when this is `product`.
    scope: &'static str,
}

impl From<ProductPolicy> for ProductItem {
    fn from(item: ProductPolicy) -> Self {
        Self {
            policy_id: item.policy_id,
            policy_value: item.policy_value.as_str(),
            product_name: item.product_name,
            product_id: item.product_id,
            scope: Scope::PRODUCT,
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

async fn put_product_policy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    ApiPath((policy_id, product_id)): ApiPath<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ProductItem>, ApiError> {
    caller.require_write()?;
    let value = policy_value_of(&headers, body)?;
    let store = state.store();
    let policy = find_policy(store, &caller.tenant, &policy_id).await?;
    let change = change_context(&caller, &headers);
    match store
        .set_product_policy(&caller.tenant, &policy.id, &product_id, value, &change)
        .await?
    {
        SetOutcome::Updated { item, old_value } => {
            tracing::info!(
                product = %item.product_id, from = %old_value, to = %value, by = %caller.upn,
                "product policy set"
            );
            Ok(Json(item.into()))
        }
        SetOutcome::NotFound => Err(ApiError::NotFound(format!(
            "Product '{product_id}' was not found."
        ))),
        SetOutcome::NotAllowed(item) => Err(ApiError::BadRequest(format!(
            "The product '{}' ({}) does not offer a trial without a payment method, so its \
             policy value cannot be {value}.",
            item.product_id, item.product_name
        ))),
    }
}

async fn put_offer_type_policy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    ApiPath((policy_id, offer_type)): ApiPath<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<OfferTypeItem>, ApiError> {
    caller.require_write()?;
    let value = policy_value_of(&headers, body)?;
    let store = state.store();
    let policy = find_policy(store, &caller.tenant, &policy_id).await?;
    let change = change_context(&caller, &headers);
    match store
        .set_offer_type_policy(&caller.tenant, &policy.id, &offer_type, value, &change)
        .await?
    {
        SetOutcome::Updated { item, old_value } => {
            tracing::info!(
                offer_type = %item.offer_type_id, from = %old_value, to = %value, by = %caller.upn,
                "offer type policy set"
            );
            Ok(Json(item.into()))
        }
        SetOutcome::NotFound => Err(ApiError::NotFound(format!(
            "Offer type '{offer_type}' was not found."
        ))),
        SetOutcome::NotAllowed(item) => Err(ApiError::BadRequest(format!(
            "The offer type '{}' takes only Enabled or Disabled, not {value}.",
            item.offer_type_id
        ))),
    }
}

/// The reason of every 400 for a body that is not `{"policyValue": "<string>"}`.
const BODY_SHAPE: &str = "The request body must be the JSON object {\"policyValue\": \"<value>\"}.";

/// The value of a write's body: a JSON object (declared `application/json`) whose only property
/// is `policyValue` (name matched ignoring case, as the service's JSON binding does), a string
/// naming a [`PolicyValue`] in any case.
fn policy_value_of(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<PolicyValue, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::BadRequest(
            "The request body must be JSON (Content-Type: application/json).".to_owned(),
        ));
    }
    let body = body.map_err(|rejection| {
        tracing::debug!(%rejection, "unreadable body");
        ApiError::BadRequest(BODY_SHAPE.to_owned())
    })?;
    let bad_shape = || ApiError::BadRequest(BODY_SHAPE.to_owned());
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&body) else {
        return Err(bad_shape());
    };
    if let Some(extra) = fields
        .keys()
        .find(|name| !name.eq_ignore_ascii_case("policyValue"))
    {
        return Err(ApiError::BadRequest(format!(
            "The request body has an unexpected property '{extra}'; it takes only 'policyValue'."
        )));
    }
    let mut values = fields.values();
    let (Some(Value::String(value)), None) = (values.next(), values.next()) else {
        return Err(bad_shape());
    };
    value.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "'{value}' is not a policy value: use Enabled, Disabled or \
             OnlyTrialsWithoutPaymentMethod."
        ))
    })
}

/// Who changes what, for the audit log.
fn change_context(caller: &Caller, headers: &HeaderMap) -> ChangeContext {
    ChangeContext {
        actor_upn: caller.upn.clone(),
        actor_app_id: caller.app_id().map(str::to_owned),
        correlation_id: middleware::correlation_id_of(headers),
    }
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

    fn value_of(content_type: &str, body: &str) -> Result<PolicyValue, String> {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        policy_value_of(&headers, Ok(Bytes::from(body.to_owned()))).map_err(|e| e.to_string())
    }

    #[test]
    fn policy_value_is_read_ignoring_case() {
        let json = "application/json; charset=utf-8";
        assert_eq!(
            value_of(json, r#"{"policyValue":"disabled"}"#),
            Ok(PolicyValue::Disabled)
        );
        assert_eq!(
            value_of(json, r#"{"PolicyValue":"ONLYTRIALSWITHOUTPAYMENTMETHOD"}"#),
            Ok(PolicyValue::OnlyTrialsWithoutPaymentMethod)
        );
    }

    #[test]
    fn body_that_is_not_one_policy_value_string_is_refused() {
        let json = "application/json";
        for body in [
            "",
            "null",
            "[]",
            "{}",
            r#"{"policyValue":1}"#,
            r#"{"policyValue":"Enabled"} junk"#,
            r#"{"policyValue":"Enabled","PolicyValue":"Disabled"}"#,
        ] {
            assert_eq!(value_of(json, body).unwrap_err(), BODY_SHAPE, "{body}");
        }
        assert!(value_of(json, r#"{"policyValue":"Enabled","x":1}"#)
            .unwrap_err()
            .contains("'x'"));
        assert!(value_of(json, r#"{"policyValue":" Enabled"}"#)
            .unwrap_err()
            .contains("is not a policy value"));
        assert!(value_of("text/plain", r#"{"policyValue":"Enabled"}"#)
            .unwrap_err()
            .contains("Content-Type"));
    }

    #[test]
    fn route_path_strips_either_prefix_as_a_whole_segment() {
        assert_eq!(route_path("/v1.0/policies"), Some("/policies"));
        assert_eq!(route_path("/v1/policies/P"), Some("/policies/P"));
        assert_eq!(route_path("/v1"), Some(""));
        assert_eq!(route_path("/v1.0"), Some(""));
        for path in [
            "/v10/policies",
            "/v1.01/policies",
            "/v2/policies",
            "/policies",
            "/",
        ] {
            assert_eq!(route_path(path), None, "{path}");
        }
    }

    #[test]
    fn scope_is_parsed_ignoring_case() {
        assert_eq!(Scope::parse(None).unwrap(), Scope::Product);
        assert_eq!(Scope::parse(Some("PRODUCT")).unwrap(), Scope::Product);
        assert_eq!(Scope::parse(Some("offertype")).unwrap(), Scope::OfferType);
        assert!(Scope::parse(Some("")).is_err());
        assert!(Scope::parse(Some("products")).is_err());
    }
}
