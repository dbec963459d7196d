//! Products added to a tenant at run time, for tests and benchmarks that need a big catalog: the
//! body of `POST /admin/tenants/{tenant}/products` and of the `add-products` command.
//!
//! Either generated products, `{"count": 1000[, "start": 1][, "prefix": "CFQ7TTC0BULK"]
//! [, "namePrefix": "Bulk product"][, "policyValue": "Enabled"]
//! [, "trialWithoutPaymentMethod": false]}`: ids `{prefix}{n:04}` and names `{namePrefix} {n:04}`
//! for `n` from `start` (`CFQ7TTC0BULK0001`, `Bulk product 0001`, ...), the same for the same
//! numbers whatever the count; or a list, `{"products": [{"productId", "productName"
//! [, "policyValue"][, "trialWithoutPaymentMethod"]}][, "policyValue"]
//! [, "trialWithoutPaymentMethod"]}` (the top-level values are the items' defaults).
//!
//! [`add_products`] adds them to a tenant ([`Store::add_products`]): in one transaction, the
//! products the tenant already has left as they are, so running it again adds nothing.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::model::{NewProduct, PolicyValue};
use crate::store::{AddProductsOutcome, Store, StoreError};

/// The most products one request adds.
pub const MAX_PRODUCTS: usize = 20_000;

/// The highest `start`.
pub const MAX_START: u32 = 1_000_000;

/// The `prefix` of generated ids when none is given.
pub const DEFAULT_PREFIX: &str = "CFQ7TTC0BULK";

/// The `namePrefix` of generated names when none is given.
pub const DEFAULT_NAME_PREFIX: &str = "Bulk product";

/// The longest product id, in characters.
pub const MAX_ID_CHARS: usize = 64;

/// The longest id prefix, in characters (room for the number).
pub const MAX_PREFIX_CHARS: usize = 48;

/// The longest product name (or name prefix), in characters.
pub const MAX_NAME_CHARS: usize = 256;

/// The body of `POST /admin/tenants/{tenant}/products`: exactly one of `count` and `products`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddProducts {
    /// How many products to generate (1 to [`MAX_PRODUCTS`]).
    pub count: Option<usize>,
    /// The number of the first generated product (default 1, at most [`MAX_START`]).
    pub start: Option<u32>,
    /// The start of generated ids (default [`DEFAULT_PREFIX`]).
    pub prefix: Option<String>,
    /// The start of generated names (default [`DEFAULT_NAME_PREFIX`]).
    pub name_prefix: Option<String>,
    /// The products' value of every policy (default `Enabled`; any case).
    pub policy_value: Option<String>,
    /// Whether the products offer a trial without a payment method (default false); needed for
    /// `OnlyTrialsWithoutPaymentMethod`.
    pub trial_without_payment_method: Option<bool>,
    /// The products, instead of generated ones.
    pub products: Option<Vec<ProductSpec>>,
}

/// One product of an explicit list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductSpec {
    /// The product id.
    pub product_id: String,
    /// The display name.
    pub product_name: String,
    /// The value of every policy (default: the request's `policyValue`).
    pub policy_value: Option<String>,
    /// Whether it offers a trial without a payment method (default: the request's).
    pub trial_without_payment_method: Option<bool>,
}

/// An [`AddProducts`] that makes no sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductsError {
    /// Both or neither of `count` and `products`.
    #[error("give exactly one of 'count' and 'products'")]
    CountOrList,
    /// `start`, `prefix` or `namePrefix` with `products`.
    #[error("'start', 'prefix' and 'namePrefix' go with 'count', not with 'products'")]
    GeneratorWithList,
    /// A count out of range.
    #[error("'count' must be between 1 and {MAX_PRODUCTS}, not {0}")]
    Count(usize),
    /// A list that is empty or too long.
    #[error("'products' must list 1 to {MAX_PRODUCTS} products, not {0}")]
    ListLength(usize),
    /// A start out of range.
    #[error("'start' must be between 1 and {MAX_START}, not {0}")]
    Start(u32),
    /// A bad id prefix.
    #[error(
        "'prefix' must be 1 to {MAX_PREFIX_CHARS} ASCII letters, digits, '-' or '_', not '{0}'"
    )]
    Prefix(String),
    /// A bad product id.
    #[error(
        "'{0}' is not a valid product id: use 1 to {MAX_ID_CHARS} ASCII letters, digits, '-' or '_'"
    )]
    Id(String),
    /// A bad name or name prefix.
    #[error("'{0}' is not a valid product name: use 1 to {MAX_NAME_CHARS} characters, no control characters")]
    Name(String),
    /// A value that is not a policy value.
    #[error(
        "'{0}' is not a policy value: use Enabled, Disabled or OnlyTrialsWithoutPaymentMethod"
    )]
    Value(String),
    /// `OnlyTrialsWithoutPaymentMethod` for a product without such a trial.
    #[error(
        "product '{0}' cannot take OnlyTrialsWithoutPaymentMethod without \
         'trialWithoutPaymentMethod': true"
    )]
    NoTrial(String),
    /// The same id twice (ignoring case).
    #[error("product '{0}' is listed twice")]
    Duplicate(String),
}

/// Why products could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddProductsError {
    /// No tenant has this id, name or domain.
    #[error("Tenant '{0}' was not found.")]
    UnknownTenant(String),
    /// The request makes no sense.
    #[error(transparent)]
    Invalid(#[from] ProductsError),
    /// An id is an old product id that a current product replaced.
    #[error("'{0}' is an old product id that a current product replaced; use another id")]
    OldId(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The answer: what was added to which tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductsAdded {
    /// The tenant id.
    pub tenant_id: String,
    /// The ids of the products the tenant did not have, in the order given.
    pub added: Vec<String>,
    /// How many of the products given the tenant already had (left as they were).
    pub unchanged: usize,
    /// How many products the tenant has now.
    pub total: u64,
}

/// The id of generated product number `n`: `{prefix}{n:04}`.
pub fn generated_id(prefix: &str, n: u32) -> String {
    format!("{prefix}{n:04}")
}

/// The name of generated product number `n`: `{name_prefix} {n:04}`.
pub fn generated_name(name_prefix: &str, n: u32) -> String {
    format!("{name_prefix} {n:04}")
}

fn is_id_text(text: &str, max_chars: usize) -> bool {
    !text.is_empty()
        && text.len() <= max_chars
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

fn is_name(text: &str) -> bool {
    !text.trim().is_empty()
        && text.chars().count() <= MAX_NAME_CHARS
        && !text.chars().any(char::is_control)
}

fn policy_value(text: Option<&str>) -> Result<Option<PolicyValue>, ProductsError> {
    text.map(|text| {
        text.parse()
            .map_err(|_| ProductsError::Value(text.to_owned()))
    })
    .transpose()
}

impl AddProducts {
    /// Checks the request and lists the products it describes.
    pub fn products(&self) -> Result<Vec<NewProduct>, ProductsError> {
        let default_value =
            policy_value(self.policy_value.as_deref())?.unwrap_or(PolicyValue::Enabled);
        let default_trial = self.trial_without_payment_method.unwrap_or(false);
        let products = match (self.count, &self.products) {
            (Some(count), None) => self.generate(count, default_value, default_trial)?,
            (None, Some(list)) => {
                if self.start.is_some() || self.prefix.is_some() || self.name_prefix.is_some() {
                    return Err(ProductsError::GeneratorWithList);
                }
                if list.is_empty() || list.len() > MAX_PRODUCTS {
                    return Err(ProductsError::ListLength(list.len()));
                }
                let mut products = Vec::with_capacity(list.len());
                let mut seen = HashSet::with_capacity(list.len());
                for spec in list {
                    if !is_id_text(&spec.product_id, MAX_ID_CHARS) {
                        return Err(ProductsError::Id(spec.product_id.clone()));
                    }
                    if !is_name(&spec.product_name) {
                        return Err(ProductsError::Name(spec.product_name.clone()));
                    }
                    if !seen.insert(spec.product_id.to_ascii_lowercase()) {
                        return Err(ProductsError::Duplicate(spec.product_id.clone()));
                    }
                    products.push(NewProduct {
                        id: spec.product_id.clone(),
                        name: spec.product_name.clone(),
                        trial_without_payment_method: spec
                            .trial_without_payment_method
                            .unwrap_or(default_trial),
                        policy_value: policy_value(spec.policy_value.as_deref())?
                            .unwrap_or(default_value),
                    });
                }
                products
            }
            _ => return Err(ProductsError::CountOrList),
        };
        if let Some(product) = products.iter().find(|product| {
            product.policy_value == PolicyValue::OnlyTrialsWithoutPaymentMethod
                && !product.trial_without_payment_method
        }) {
            return Err(ProductsError::NoTrial(product.id.clone()));
        }
        Ok(products)
    }

    fn generate(
        &self,
        count: usize,
        policy_value: PolicyValue,
        trial: bool,
    ) -> Result<Vec<NewProduct>, ProductsError> {
        if !(1..=MAX_PRODUCTS).contains(&count) {
            return Err(ProductsError::Count(count));
        }
        let start = self.start.unwrap_or(1);
        if !(1..=MAX_START).contains(&start) {
            return Err(ProductsError::Start(start));
        }
        let prefix = self.prefix.as_deref().unwrap_or(DEFAULT_PREFIX);
        if !is_id_text(prefix, MAX_PREFIX_CHARS) {
            return Err(ProductsError::Prefix(prefix.to_owned()));
        }
        let name_prefix = self.name_prefix.as_deref().unwrap_or(DEFAULT_NAME_PREFIX);
        if !is_name(name_prefix) {
            return Err(ProductsError::Name(name_prefix.to_owned()));
        }
        // count <= MAX_PRODUCTS and start <= MAX_START: the numbers fit in a u32.
        let count = u32::try_from(count).map_err(|_| ProductsError::Count(count))?;
        Ok((start..start + count)
            .map(|n| NewProduct {
                id: generated_id(prefix, n),
                name: generated_name(name_prefix, n),
                trial_without_payment_method: trial,
                policy_value,
            })
            .collect())
    }
}

/// Adds the products `request` describes to the tenant whose id, name or domain is `tenant`.
pub async fn add_products(
    store: &Store,
    tenant: &str,
    request: &AddProducts,
) -> Result<ProductsAdded, AddProductsError> {
    let products = request.products()?;
    let tenant = store
        .find_tenant(tenant)
        .await?
        .ok_or_else(|| AddProductsError::UnknownTenant(tenant.to_owned()))?;
    match store.add_products(&tenant.id, products).await? {
        AddProductsOutcome::Added {
            added,
            unchanged,
            total,
        } => Ok(ProductsAdded {
            tenant_id: tenant.id.to_string(),
            added,
            unchanged,
            total,
        }),
        AddProductsOutcome::OldId(id) => Err(AddProductsError::OldId(id)),
        AddProductsOutcome::NoTrial(id) => Err(ProductsError::NoTrial(id).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> AddProducts {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn generated_ids_and_names_are_numbered_from_start() {
        let products = request(r#"{"count":3,"start":9999,"policyValue":"disabled"}"#)
            .products()
            .unwrap();
        let ids: Vec<&str> = products.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            ["CFQ7TTC0BULK9999", "CFQ7TTC0BULK10000", "CFQ7TTC0BULK10001"]
        );
        assert_eq!(products[0].name, "Bulk product 9999");
        assert!(products
            .iter()
            .all(|p| p.policy_value == PolicyValue::Disabled && !p.trial_without_payment_method));
        let first = request(r#"{"count":1,"prefix":"X","namePrefix":"N"}"#)
            .products()
            .unwrap();
        assert_eq!(
            (first[0].id.as_str(), first[0].name.as_str()),
            ("X0001", "N 0001")
        );
    }

    #[test]
    fn a_list_takes_the_request_defaults() {
        let products = request(
            r#"{"policyValue":"OnlyTrialsWithoutPaymentMethod","trialWithoutPaymentMethod":true,
                "products":[{"productId":"A1","productName":"A"},
                            {"productId":"B-2","productName":"B","policyValue":"Enabled",
                             "trialWithoutPaymentMethod":false}]}"#,
        )
        .products()
        .unwrap();
        assert_eq!(
            products[0].policy_value,
            PolicyValue::OnlyTrialsWithoutPaymentMethod
        );
        assert!(products[0].trial_without_payment_method);
        assert_eq!(products[1].policy_value, PolicyValue::Enabled);
        assert!(!products[1].trial_without_payment_method);
    }

    #[test]
    fn requests_that_make_no_sense_are_refused() {
        for (json, error) in [
            (r#"{}"#, ProductsError::CountOrList),
            (
                r#"{"count":1,"products":[{"productId":"A","productName":"A"}]}"#,
                ProductsError::CountOrList,
            ),
            (r#"{"count":0}"#, ProductsError::Count(0)),
            (r#"{"count":20001}"#, ProductsError::Count(20_001)),
            (r#"{"count":1,"start":0}"#, ProductsError::Start(0)),
            (
                r#"{"count":1,"prefix":"a/b"}"#,
                ProductsError::Prefix("a/b".to_owned()),
            ),
            (
                r#"{"count":1,"prefix":""}"#,
                ProductsError::Prefix(String::new()),
            ),
            (
                r#"{"count":1,"namePrefix":" "}"#,
                ProductsError::Name(" ".to_owned()),
            ),
            (
                r#"{"count":1,"policyValue":"On"}"#,
                ProductsError::Value("On".to_owned()),
            ),
            (
                r#"{"count":1,"policyValue":"OnlyTrialsWithoutPaymentMethod"}"#,
                ProductsError::NoTrial("CFQ7TTC0BULK0001".to_owned()),
            ),
            (r#"{"products":[]}"#, ProductsError::ListLength(0)),
            (
                r#"{"products":[{"productId":"A","productName":"A"}],"prefix":"P"}"#,
                ProductsError::GeneratorWithList,
            ),
            (
                r#"{"products":[{"productId":"..","productName":"A"}]}"#,
                ProductsError::Id("..".to_owned()),
            ),
            (
                r#"{"products":[{"productId":"A","productName":"a\nb"}]}"#,
                ProductsError::Name("a\nb".to_owned()),
            ),
            (
                r#"{"products":[{"productId":"A","productName":"A"},{"productId":"a","productName":"B"}]}"#,
                ProductsError::Duplicate("a".to_owned()),
            ),
        ] {
            assert_eq!(request(json).products().unwrap_err(), error, "{json}");
        }
        assert!(serde_json::from_str::<AddProducts>(r#"{"count":1,"x":1}"#).is_err());
        assert!(serde_json::from_str::<AddProducts>(r#"{"count":-1}"#).is_err());
    }
}
