//! The licensing API of the contract: requests, the service's wire types, the objects the
//! cmdlets output, and the contract's rules and failure messages.

pub mod baseline;
pub(crate) mod messages;
pub mod wildcard;
pub(crate) mod wire;

pub use messages::{AUTH_EXPIRED_MESSAGE, ENABLED_VALUE_MESSAGE, NOT_CONNECTED_MESSAGE};
pub use wildcard::Wildcard;
/// The service's list envelope, for the benchmarks that decode answers as the client does.
#[doc(hidden)]
pub use wire::ServiceList;
pub use wire::{OutputItem, ServiceItem, ServicePolicy};

use serde::Deserialize;
use url::Url;

use crate::error::{Error, ErrorKind, Result};

/// The scope that lists products (the default).
pub const PRODUCT_SCOPE: &str = "product";

/// Requests larger than this are refused before parsing.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// The values a policy item takes, as the service spells them.
pub const POLICY_VALUES: [&str; 3] = ["Enabled", "Disabled", "OnlyTrialsWithoutPaymentMethod"];

/// The most items one bulk update takes.
pub const MAX_BULK_ITEMS: usize = 100_000;

/// How many updates of a bulk request run at once unless the request says (`-ThrottleLimit`).
/// Each update waits mostly on the service, so the figure bounds how hard one command presses
/// it; the service's throttling (429 with `Retry-After`) is honoured by every update.
pub const DEFAULT_THROTTLE_LIMIT: usize = 16;

/// The most updates of a bulk request that may run at once.
pub const MAX_THROTTLE_LIMIT: usize = 64;

/// Which list of a policy a request covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Microsoft products (`-ProductId`).
    Product,
    /// Third-party offer types (`-OfferType`).
    OfferType,
}

impl Scope {
    /// The scope as the service's `scope` query parameter spells it.
    pub fn service_scope(self) -> &'static str {
        match self {
            Scope::Product => PRODUCT_SCOPE,
            Scope::OfferType => "OfferType",
        }
    }

    /// The name PowerShell shows (`-Scope Product`, `-Scope OfferType`).
    pub fn name(self) -> &'static str {
        match self {
            Scope::Product => "Product",
            Scope::OfferType => "OfferType",
        }
    }

    /// The item of this scope with this id.
    pub fn item(self, id: String) -> Item {
        match self {
            Scope::Product => Item::Product(id),
            Scope::OfferType => Item::OfferType(id),
        }
    }

    /// `Product` (the default, also spelled `product`) or `OfferType`, in any case.
    fn parse(scope: Option<&str>) -> Result<Self> {
        match scope.map(str::trim) {
            None | Some("") => Ok(Scope::Product),
            Some(s) if s.eq_ignore_ascii_case("product") => Ok(Scope::Product),
            Some(s) if s.eq_ignore_ascii_case("offertype") => Ok(Scope::OfferType),
            Some(other) => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("The scope '{other}' is not known; use Product or OfferType."),
            )
            .with_target(Some(other))),
        }
    }
}

/// One item of a bulk update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkItem {
    /// An item to update.
    Valid {
        /// The policy.
        policy_id: String,
        /// The product or offer type.
        item: Item,
    },
    /// An item whose id was refused; it is reported, not sent.
    Invalid {
        /// The id as given.
        id: String,
        /// Why it was refused.
        error: Error,
    },
}

impl BulkItem {
    /// The id the user gave.
    pub fn id(&self) -> &str {
        match self {
            BulkItem::Valid { item, .. } => item.id(),
            BulkItem::Invalid { id, .. } => id,
        }
    }
}

/// What to complete (`complete` requests, for tab completion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    /// Policy ids.
    PolicyId,
    /// Product ids, with their names.
    ProductId,
    /// Product names.
    ProductName,
    /// Offer types.
    OfferType,
}

/// Which items of a policy a `selectItems` request picks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The policy.
    pub policy_id: String,
    /// Products or offer types.
    pub scope: Scope,
    /// Every item of the scope (`-All`), else the items `names` match.
    pub all: bool,
    /// Product names, wildcards allowed (`-ProductName`).
    pub names: Vec<Wildcard>,
    /// Ids or names to leave out, wildcards allowed (`-Exclude`).
    pub exclude: Vec<Wildcard>,
}

/// One request to the core, as the shim sends it (see `docs/abi.md`).
#[derive(Debug, Clone)]
pub struct Request {
    /// What to do.
    pub operation: Operation,
    /// Routes log lines and progress back to the caller's pipeline.
    pub operation_id: u64,
    /// A token to use instead of the client's credential (the cmdlets' `-Token`).
    pub token: Option<crate::auth::Secret>,
    /// The environment variables as the caller saw them when it sent the request (`variables`);
    /// they replace the client's for this request and later ones. `None` keeps the client's.
    pub variables: Option<crate::settings::Variables>,
}

/// The item of a policy a request is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A Microsoft product, by product id (`-ProductId`).
    Product(String),
    /// A third-party offer type, such as `SaaS` (`-OfferType`).
    OfferType(String),
}

impl Item {
    /// The id the user passed.
    pub fn id(&self) -> &str {
        match self {
            Item::Product(id) | Item::OfferType(id) => id,
        }
    }
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `Get-MSCommercePolicies`.
    GetPolicies,
    /// `Get-MSCommercePolicy -PolicyId`.
    GetPolicy {
        /// The policy.
        policy_id: String,
    },
    /// `Get-MSCommerceProductPolicies -PolicyId [-Scope]`.
    GetProductPolicies {
        /// The policy.
        policy_id: String,
        /// `product` (default) or another scope such as `OfferType`.
        scope: String,
    },
    /// `Get-MSCommerceProductPolicy -PolicyId (-ProductId | -OfferType)`.
    GetProductPolicy {
        /// The policy.
        policy_id: String,
        /// The product or offer type.
        item: Item,
    },
    /// `Connect-MSCommerce` (browser or device code): signs in, silently from the token cache
    /// when it can, and keeps the session in the client.
    Connect {
        /// As whom, how, and whether the cache is used.
        options: crate::auth::ConnectOptions,
    },
    /// `Get-MSCommerceConnection`: who is connected where; never a token.
    GetConnection,
    /// `Disconnect-MSCommerce`: ends the session; with `forget`, removes the cached account.
    Disconnect {
        /// Whether to remove the account from the token cache too.
        forget: bool,
    },
    /// `Update-MSCommerceProductPolicy -PolicyId (-ProductId | -OfferType) (-Value | -Enabled)`.
    UpdateProductPolicy {
        /// The policy.
        policy_id: String,
        /// The product or offer type.
        item: Item,
        /// The new value, spelled as the service spells it.
        value: String,
    },
    /// Many updates to one value, run concurrently; each item succeeds or fails on its own.
    UpdateProductPolicies {
        /// The items, in the order given.
        items: Vec<BulkItem>,
        /// The new value, spelled as the service spells it.
        value: String,
        /// How many updates run at once.
        throttle_limit: usize,
    },
    /// The items of a policy picked by `-All`, `-ProductName` and `-Exclude`, with their values.
    SelectItems(Selection),
    /// `Export-MSCommercePolicy`: writes a baseline file of a policy's products and offer types.
    ExportBaseline {
        /// The policy.
        policy_id: String,
        /// The file, absolute.
        path: std::path::PathBuf,
        /// Refuse to replace an existing file.
        no_clobber: bool,
    },
    /// `Test-MSCommercePolicy` and the plan of `Import-MSCommercePolicy`: how the tenant
    /// differs from a baseline file.
    TestBaseline {
        /// The file, absolute.
        path: std::path::PathBuf,
    },
    /// Tab completion: the values of a parameter that start with (or whose names contain) a word.
    Complete {
        /// Which parameter.
        kind: CompletionKind,
        /// The policy, for product and offer-type completion.
        policy_id: Option<String>,
        /// What the user typed so far.
        word: String,
    },
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", deny_unknown_fields)]
enum RawRequest {
    #[serde(rename_all = "camelCase")]
    Connect {
        operation_id: Option<u64>,
        flow: String,
        tenant_id: Option<String>,
        client_id: Option<String>,
        resource: Option<String>,
        redirect_uri: Option<String>,
        login_hint: Option<String>,
        context_scope: Option<String>,
        timeout_seconds: Option<f64>,
    },
    #[serde(rename_all = "camelCase")]
    GetConnection { operation_id: Option<u64> },
    #[serde(rename_all = "camelCase")]
    Disconnect {
        operation_id: Option<u64>,
        forget: Option<bool>,
    },
    #[serde(rename_all = "camelCase")]
    GetPolicies {
        operation_id: Option<u64>,
        token: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    GetPolicy {
        operation_id: Option<u64>,
        token: Option<String>,
        policy_id: String,
    },
    #[serde(rename_all = "camelCase")]
    GetProductPolicies {
        operation_id: Option<u64>,
        token: Option<String>,
        policy_id: String,
        scope: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    GetProductPolicy {
        operation_id: Option<u64>,
        token: Option<String>,
        policy_id: String,
        product_id: Option<String>,
        offer_type: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    UpdateProductPolicy {
        operation_id: Option<u64>,
        token: Option<String>,
        policy_id: String,
        product_id: Option<String>,
        offer_type: Option<String>,
        value: Option<String>,
        enabled: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    UpdateProductPolicies {
        operation_id: Option<u64>,
        token: Option<String>,
        items: Vec<RawTarget>,
        value: Option<String>,
        enabled: Option<String>,
        throttle_limit: Option<u64>,
    },
    #[serde(rename_all = "camelCase")]
    SelectItems {
        operation_id: Option<u64>,
        token: Option<String>,
        policy_id: String,
        scope: Option<String>,
        all: Option<bool>,
        names: Option<Vec<String>>,
        exclude: Option<Vec<String>>,
    },
    #[serde(rename_all = "camelCase")]
    ExportBaseline {
        operation_id: Option<u64>,
        token: Option<String>,
        policy_id: String,
        path: String,
        no_clobber: Option<bool>,
    },
    #[serde(rename_all = "camelCase")]
    TestBaseline {
        operation_id: Option<u64>,
        token: Option<String>,
        path: String,
    },
    #[serde(rename_all = "camelCase")]
    Complete {
        operation_id: Option<u64>,
        token: Option<String>,
        kind: String,
        policy_id: Option<String>,
        word: Option<String>,
    },
}

/// One item of an `updateProductPolicies` request.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawTarget {
    policy_id: String,
    product_id: Option<String>,
    offer_type: Option<String>,
}

impl Request {
    /// Parses and validates a request.
    pub fn from_json(json: &str) -> Result<Self> {
        if json.len() > MAX_REQUEST_BYTES {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "The request is too large.",
            ));
        }
        let invalid = |e: serde_json::Error| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("The request is not valid: {e}"),
            )
        };
        // `variables` may come with any operation: taken out before the operation's fields are
        // checked, which refuse fields they do not know.
        let mut fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(json).map_err(invalid)?;
        let variables = match fields.remove("variables") {
            None | Some(serde_json::Value::Null) => None,
            Some(value) => Some(crate::settings::Variables::deserialize(value).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("The request's variables must be an object of strings: {e}"),
                )
            })?),
        };
        let raw = RawRequest::deserialize(serde_json::Value::Object(fields)).map_err(invalid)?;
        let (operation, operation_id, token) = match raw {
            RawRequest::Connect {
                operation_id,
                flow,
                tenant_id,
                client_id,
                resource,
                redirect_uri,
                login_hint,
                context_scope,
                timeout_seconds,
            } => {
                let options = connect_options(
                    &flow,
                    crate::auth::signin::RawSignIn {
                        tenant_id,
                        client_id,
                        resource,
                    },
                    redirect_uri,
                    login_hint,
                    context_scope,
                    timeout_seconds,
                )?;
                (Operation::Connect { options }, operation_id, None)
            }
            RawRequest::Disconnect {
                operation_id,
                forget,
            } => (
                Operation::Disconnect {
                    forget: forget.unwrap_or(false),
                },
                operation_id,
                None,
            ),
            RawRequest::GetConnection { operation_id } => {
                (Operation::GetConnection, operation_id, None)
            }
            RawRequest::GetPolicies {
                operation_id,
                token,
            } => (Operation::GetPolicies, operation_id, token),
            RawRequest::GetPolicy {
                operation_id,
                token,
                policy_id,
            } => (
                Operation::GetPolicy {
                    policy_id: check_id("PolicyId", policy_id)?,
                },
                operation_id,
                token,
            ),
            RawRequest::GetProductPolicies {
                operation_id,
                token,
                policy_id,
                scope,
            } => {
                let scope = match scope {
                    Some(scope) if !scope.trim().is_empty() => check_id("Scope", scope)?,
                    _ => PRODUCT_SCOPE.to_owned(),
                };
                (
                    Operation::GetProductPolicies {
                        policy_id: check_id("PolicyId", policy_id)?,
                        scope,
                    },
                    operation_id,
                    token,
                )
            }
            RawRequest::GetProductPolicy {
                operation_id,
                token,
                policy_id,
                product_id,
                offer_type,
            } => (
                Operation::GetProductPolicy {
                    policy_id: check_id("PolicyId", policy_id)?,
                    item: item(product_id, offer_type)?,
                },
                operation_id,
                token,
            ),
            RawRequest::UpdateProductPolicy {
                operation_id,
                token,
                policy_id,
                product_id,
                offer_type,
                value,
                enabled,
            } => {
                let item = item(product_id, offer_type)?;
                let value =
                    new_value(value, enabled).map_err(|e| e.with_target(Some(item.id())))?;
                (
                    Operation::UpdateProductPolicy {
                        policy_id: check_id("PolicyId", policy_id)?,
                        item,
                        value,
                    },
                    operation_id,
                    token,
                )
            }
            RawRequest::UpdateProductPolicies {
                operation_id,
                token,
                items,
                value,
                enabled,
                throttle_limit,
            } => (
                bulk_update(items, value, enabled, throttle_limit)?,
                operation_id,
                token,
            ),
            RawRequest::SelectItems {
                operation_id,
                token,
                policy_id,
                scope,
                all,
                names,
                exclude,
            } => {
                let patterns = |list: Option<Vec<String>>| -> Result<Vec<Wildcard>> {
                    list.unwrap_or_default()
                        .iter()
                        .map(|p| p.trim())
                        .filter(|p| !p.is_empty())
                        .map(Wildcard::new)
                        .collect()
                };
                let selection = Selection {
                    policy_id: check_id("PolicyId", policy_id)?,
                    scope: Scope::parse(scope.as_deref())?,
                    all: all.unwrap_or(false),
                    names: patterns(names)?,
                    exclude: patterns(exclude)?,
                };
                if selection.all != selection.names.is_empty() {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        "Give either all or at least one name.",
                    ));
                }
                (Operation::SelectItems(selection), operation_id, token)
            }
            RawRequest::ExportBaseline {
                operation_id,
                token,
                policy_id,
                path,
                no_clobber,
            } => (
                Operation::ExportBaseline {
                    policy_id: check_id("PolicyId", policy_id)?,
                    path: absolute_path(path)?,
                    no_clobber: no_clobber.unwrap_or(false),
                },
                operation_id,
                token,
            ),
            RawRequest::TestBaseline {
                operation_id,
                token,
                path,
            } => (
                Operation::TestBaseline {
                    path: absolute_path(path)?,
                },
                operation_id,
                token,
            ),
            RawRequest::Complete {
                operation_id,
                token,
                kind,
                policy_id,
                word,
            } => {
                let kind = match kind.as_str() {
                    "policyId" => CompletionKind::PolicyId,
                    "productId" => CompletionKind::ProductId,
                    "productName" => CompletionKind::ProductName,
                    "offerType" => CompletionKind::OfferType,
                    other => {
                        return Err(Error::new(
                            ErrorKind::InvalidArgument,
                            format!("Nothing completes '{other}'."),
                        ))
                    }
                };
                let policy_id = policy_id
                    .filter(|id| !id.trim().is_empty())
                    .map(|id| check_id("PolicyId", id))
                    .transpose()?;
                (
                    Operation::Complete {
                        kind,
                        policy_id,
                        word: word.unwrap_or_default(),
                    },
                    operation_id,
                    token,
                )
            }
        };
        Ok(Request {
            operation,
            operation_id: operation_id.unwrap_or(0),
            token: token.and_then(crate::auth::Secret::new),
            variables,
        })
    }

    /// The id the user passed that errors of this request are about.
    pub fn target(&self) -> Option<&str> {
        match &self.operation {
            Operation::GetPolicies
            | Operation::Connect { .. }
            | Operation::GetConnection
            | Operation::Disconnect { .. }
            | Operation::UpdateProductPolicies { .. }
            | Operation::Complete { .. } => None,
            Operation::GetPolicy { policy_id }
            | Operation::GetProductPolicies { policy_id, .. }
            | Operation::SelectItems(Selection { policy_id, .. }) => Some(policy_id),
            Operation::ExportBaseline { path, .. } | Operation::TestBaseline { path } => {
                path.to_str()
            }
            Operation::GetProductPolicy { item, .. }
            | Operation::UpdateProductPolicy { item, .. } => Some(item.id()),
        }
    }

    /// True when the request changes the service's state.
    pub fn is_write(&self) -> bool {
        matches!(
            self.operation,
            Operation::UpdateProductPolicy { .. } | Operation::UpdateProductPolicies { .. }
        )
    }

    /// The HTTP request for this operation under the service's base URI.
    pub fn http(&self, base: &Url) -> Result<crate::http::HttpRequest> {
        let mut url = base.clone();
        {
            let mut segments = url.path_segments_mut().map_err(|()| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    "The service URI cannot hold a path.",
                )
            })?;
            segments.pop_if_empty().push("v1.0").push("policies");
            match &self.operation {
                Operation::GetPolicies => {}
                Operation::Connect { .. }
                | Operation::GetConnection
                | Operation::Disconnect { .. }
                | Operation::UpdateProductPolicies { .. }
                | Operation::SelectItems(_)
                | Operation::ExportBaseline { .. }
                | Operation::TestBaseline { .. }
                | Operation::Complete { .. } => return Err(Error::new(
                    ErrorKind::Internal,
                    "This request is made of several licensing requests: it has no URL of its own.",
                )),
                Operation::GetPolicy { policy_id } => {
                    segments.push(policy_id);
                }
                Operation::GetProductPolicies { policy_id, .. } => {
                    segments.push(policy_id).push("products");
                }
                Operation::GetProductPolicy { policy_id, item }
                | Operation::UpdateProductPolicy {
                    policy_id, item, ..
                } => {
                    segments.push(policy_id);
                    match item {
                        Item::Product(id) => segments.push("products").push(id),
                        Item::OfferType(id) => segments.push("offerTypes").push(id),
                    };
                }
            }
        }
        if let Operation::GetProductPolicies { scope, .. } = &self.operation {
            url.query_pairs_mut().append_pair("scope", scope);
        }
        let (method, body) = match &self.operation {
            Operation::UpdateProductPolicy { value, .. } => (
                reqwest::Method::PUT,
                Some(serde_json::json!({ "policyValue": value }).to_string()),
            ),
            _ => (reqwest::Method::GET, None),
        };
        Ok(crate::http::HttpRequest { method, url, body })
    }

    /// The contract's "what failed" prefix for this request.
    pub fn what_failed(&self) -> String {
        match &self.operation {
            Operation::Connect { .. } => "Unable to establish connection".to_owned(),
            Operation::GetConnection => "Failed to read the connection".to_owned(),
            Operation::Disconnect { .. } => "Failed to disconnect".to_owned(),
            Operation::GetPolicies => "Failed to retrieve policies".to_owned(),
            Operation::GetPolicy { policy_id } => {
                format!("Failed to retrieve policy with PolicyId '{policy_id}'")
            }
            Operation::GetProductPolicies { policy_id, .. } => {
                format!("Failed to retrieve product policy with PolicyId '{policy_id}'")
            }
            Operation::GetProductPolicy { policy_id, item } => match item {
                Item::Product(id) => format!(
                    "Failed to retrieve product policy with PolicyId '{policy_id}' ProductId '{id}'"
                ),
                Item::OfferType(id) => format!(
                    "Failed to retrieve product policy with PolicyId '{policy_id}' OfferType '{id}'"
                ),
            },
            Operation::UpdateProductPolicy { .. } | Operation::UpdateProductPolicies { .. } => {
                "Failed to update product policy".to_owned()
            }
            Operation::SelectItems(Selection { policy_id, .. }) => {
                format!("Failed to retrieve product policy with PolicyId '{policy_id}'")
            }
            Operation::ExportBaseline { policy_id, .. } => {
                format!("Failed to export policy with PolicyId '{policy_id}'")
            }
            Operation::TestBaseline { .. } => "Failed to compare the baseline".to_owned(),
            Operation::Complete { .. } => "Failed to complete".to_owned(),
        }
    }
}

/// Exactly one of a product id and an offer type.
fn item(product_id: Option<String>, offer_type: Option<String>) -> Result<Item> {
    match (product_id, offer_type) {
        (Some(id), None) => Ok(Item::Product(check_id("ProductId", id)?)),
        (None, Some(id)) => Ok(Item::OfferType(check_id("OfferType", id)?)),
        _ => Err(Error::new(
            ErrorKind::InvalidArgument,
            "Give exactly one of ProductId and OfferType.",
        )),
    }
}

/// The value to set: `-Value` spelled as the service spells it, or `-Enabled` with the
/// original's string semantics (`True`/`False` in any case, which is what `$true`/`$false`
/// become when bound to a string).
fn new_value(value: Option<String>, enabled: Option<String>) -> Result<String> {
    match (value, enabled) {
        (Some(value), None) => normalise_value(&value).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "The value '{value}' is not one of {}.",
                    POLICY_VALUES.join(", ")
                ),
            )
        }),
        (None, Some(enabled)) => match enabled.trim().to_ascii_lowercase().as_str() {
            "true" => Ok("Enabled".to_owned()),
            "false" => Ok("Disabled".to_owned()),
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                ENABLED_VALUE_MESSAGE,
            )),
        },
        _ => Err(Error::new(
            ErrorKind::InvalidArgument,
            "Give exactly one of Value and Enabled.",
        )),
    }
}

/// A policy value spelled as the service spells it, whatever its case; `None` if unknown.
pub(crate) fn normalise_value(value: &str) -> Option<String> {
    POLICY_VALUES
        .iter()
        .find(|known| known.eq_ignore_ascii_case(value.trim()))
        .map(|known| (*known).to_owned())
}

/// Validates an `updateProductPolicies` request. A refused id fails only its own item; a bad
/// value, an empty or huge list, or a bad throttle limit fails the request.
fn bulk_update(
    items: Vec<RawTarget>,
    value: Option<String>,
    enabled: Option<String>,
    throttle_limit: Option<u64>,
) -> Result<Operation> {
    let value = new_value(value, enabled)?;
    if items.is_empty() || items.len() > MAX_BULK_ITEMS {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("Give between 1 and {MAX_BULK_ITEMS} items."),
        ));
    }
    let throttle_limit = match throttle_limit {
        None => DEFAULT_THROTTLE_LIMIT,
        Some(n) if (1..=MAX_THROTTLE_LIMIT as u64).contains(&n) => n as usize,
        Some(_) => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("throttleLimit must be a whole number from 1 to {MAX_THROTTLE_LIMIT}."),
            ))
        }
    };
    let items = items
        .into_iter()
        .map(|raw| {
            let id = raw
                .product_id
                .clone()
                .or_else(|| raw.offer_type.clone())
                .unwrap_or_default();
            match (
                check_id("PolicyId", raw.policy_id),
                item(raw.product_id, raw.offer_type),
            ) {
                (Ok(policy_id), Ok(item)) => BulkItem::Valid { policy_id, item },
                (Err(error), _) | (_, Err(error)) => BulkItem::Invalid {
                    error: error.with_target(Some(&id)),
                    id,
                },
            }
        })
        .collect();
    Ok(Operation::UpdateProductPolicies {
        items,
        value,
        throttle_limit,
    })
}

/// A file path from the shim, which resolves PowerShell paths first: it must be absolute.
fn absolute_path(path: String) -> Result<std::path::PathBuf> {
    let path = std::path::PathBuf::from(path);
    if path.as_os_str().is_empty() || !path.is_absolute() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("The path '{}' is not absolute.", path.display()),
        )
        .with_target(path.to_str()));
    }
    Ok(path)
}

/// The longest id (policy, product, offer type, scope) accepted, in characters.
const MAX_ID_CHARS: usize = 256;

/// Characters that change how a console shows what follows: controls, and the invisible and
/// direction-changing format characters.
fn is_unsafe_to_show(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Checks an id that becomes one path segment: `url` percent-encodes `/`, `?`, `#` and `%` in a
/// pushed segment, so only what encoding cannot make safe is refused here: dot segments (which
/// URL parsers resolve even when encoded), control and invisible formatting characters, and
/// empty or huge ids.
pub(crate) fn check_id(name: &str, id: String) -> Result<String> {
    let invalid = |why: &str| {
        // The message is printed by the host: show a bounded, escaped form of what was passed so
        // a huge id or one with control characters (line breaks, terminal escapes) cannot flood
        // or rewrite the console. The target keeps the id as it was.
        let mut shown = String::new();
        for c in id.chars().take(MAX_ID_CHARS) {
            if is_unsafe_to_show(c) {
                shown.extend(c.escape_unicode());
            } else {
                shown.push(c);
            }
        }
        if id.chars().nth(MAX_ID_CHARS).is_some() {
            shown.push_str("...");
        }
        Error::new(
            ErrorKind::InvalidArgument,
            format!("The value of {name} '{shown}' is not valid: {why}"),
        )
        .with_target(Some(&id))
    };
    let trimmed = id.trim();
    if trimmed.is_empty() {
        return Err(invalid("it is empty."));
    }
    if trimmed.chars().count() > MAX_ID_CHARS {
        return Err(invalid(&format!(
            "it is longer than {MAX_ID_CHARS} characters."
        )));
    }
    let decoded_dots = trimmed.to_ascii_lowercase().replace("%2e", ".");
    if decoded_dots == "." || decoded_dots == ".." {
        return Err(invalid("it is a relative path segment."));
    }
    // No real id holds them, and they would reach the console through the contract's messages.
    if trimmed.chars().any(is_unsafe_to_show) {
        return Err(invalid(
            "it holds control or invisible formatting characters.",
        ));
    }
    Ok(trimmed.to_owned())
}

/// Validates the fields of a `connect` request.
fn connect_options(
    flow: &str,
    raw: crate::auth::signin::RawSignIn,
    redirect_uri: Option<String>,
    login_hint: Option<String>,
    context_scope: Option<String>,
    timeout_seconds: Option<f64>,
) -> Result<crate::auth::ConnectOptions> {
    use crate::auth::browser::{BrowserOptions, DEFAULT_REDIRECT_URI, DEFAULT_TIMEOUT};
    use crate::auth::{ConnectOptions, ContextScope, Flow};
    let invalid = |message: String| Error::new(ErrorKind::InvalidArgument, message);
    let timeout = match timeout_seconds {
        None => DEFAULT_TIMEOUT,
        Some(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0 => {
            std::time::Duration::from_secs_f64(seconds)
        }
        Some(_) => {
            return Err(invalid(
                "timeoutSeconds must be a number of seconds above 0 and at most 3600.".into(),
            ))
        }
    };
    let flow = match flow {
        "browser" => Flow::Browser(BrowserOptions {
            redirect_uri: BrowserOptions::parse_redirect_uri(
                redirect_uri.as_deref().unwrap_or(DEFAULT_REDIRECT_URI),
            )?,
            login_hint: login_hint.clone(),
            timeout,
        }),
        "deviceCode" => Flow::DeviceCode,
        other => {
            return Err(invalid(format!(
                "The sign-in flow '{other}' is not supported; use browser or deviceCode."
            )))
        }
    };
    let login_hint = login_hint
        .map(|hint| hint.trim().to_owned())
        .filter(|hint| !hint.is_empty());
    if login_hint
        .as_deref()
        .is_some_and(|hint| hint.chars().any(|c| c.is_control() || c.is_whitespace()))
    {
        return Err(invalid("The login hint is not a sign-in name.".into())
            .with_target(login_hint.as_deref()));
    }
    let context_scope = match context_scope.as_deref() {
        None | Some("CurrentUser") => ContextScope::CurrentUser,
        Some("Process") => ContextScope::Process,
        Some(other) => {
            return Err(invalid(format!(
                "The context scope '{other}' is not known; use CurrentUser or Process."
            )))
        }
    };
    Ok(ConnectOptions {
        identity: crate::auth::signin::Identity::from_raw(raw)?,
        flow,
        login_hint,
        context_scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        crate::config::parse_service_uri("https://licensing.m365.microsoft.com").unwrap()
    }

    #[test]
    fn get_policies_goes_to_v1_policies() {
        let request = Request::from_json(r#"{"op":"getPolicies"}"#).unwrap();
        assert_eq!(
            request.http(&base()).unwrap().url.as_str(),
            "https://licensing.m365.microsoft.com/v1.0/policies"
        );
    }

    #[test]
    fn product_list_defaults_to_product_scope() {
        let request = Request::from_json(
            r#"{"op":"getProductPolicies","policyId":"AllowSelfServicePurchase"}"#,
        )
        .unwrap();
        assert_eq!(
            request.http(&base()).unwrap().url.as_str(),
            "https://licensing.m365.microsoft.com/v1.0/policies/AllowSelfServicePurchase/products?scope=product"
        );
    }

    #[test]
    fn service_uri_with_a_path_keeps_it() {
        let base = crate::config::parse_service_uri("http://127.0.0.1:9/prefix/").unwrap();
        let request = Request::from_json(r#"{"op":"getPolicies"}"#).unwrap();
        assert_eq!(
            request.http(&base).unwrap().url.as_str(),
            "http://127.0.0.1:9/prefix/v1.0/policies"
        );
    }

    #[test]
    fn id_with_slash_or_query_stays_one_path_segment() {
        let request = Request::from_json(r#"{"op":"getPolicy","policyId":"a/b?c#d%e"}"#).unwrap();
        let url = request.http(&base()).unwrap().url;
        assert_eq!(url.path(), "/v1.0/policies/a%2Fb%3Fc%23d%25e");
        assert_eq!(url.query(), None);
    }

    #[test]
    fn dot_segments_are_refused() {
        for id in [".", "..", "%2e%2E", ".%2e"] {
            let json = serde_json::json!({"op":"getPolicy","policyId":id}).to_string();
            let err = Request::from_json(&json).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{id}");
            assert_eq!(err.target(), Some(id));
        }
    }

    #[test]
    fn scope_is_a_query_parameter_not_a_path() {
        let request = Request::from_json(
            r#"{"op":"getProductPolicies","policyId":"P","scope":"OfferType&x=1"}"#,
        )
        .unwrap();
        let url = request.http(&base()).unwrap().url;
        assert_eq!(url.query(), Some("scope=OfferType%26x%3D1"));
    }

    #[test]
    fn unknown_operation_and_fields_are_refused() {
        assert!(Request::from_json(r#"{"op":"deleteEverything"}"#).is_err());
        assert!(Request::from_json(r#"{"op":"getPolicies","extra":1}"#).is_err());
        assert!(Request::from_json("not json").is_err());
    }

    #[test]
    fn one_product_and_one_offer_type_have_their_own_paths() {
        let request = Request::from_json(
            r#"{"op":"getProductPolicy","policyId":"P","productId":"CFQ7TTC0H9MP"}"#,
        )
        .unwrap();
        assert_eq!(
            request.http(&base()).unwrap().url.path(),
            "/v1.0/policies/P/products/CFQ7TTC0H9MP"
        );
        let request =
            Request::from_json(r#"{"op":"getProductPolicy","policyId":"P","offerType":"SaaS"}"#)
                .unwrap();
        assert_eq!(
            request.http(&base()).unwrap().url.path(),
            "/v1.0/policies/P/offerTypes/SaaS"
        );
        assert_eq!(request.target(), Some("SaaS"));
    }

    #[test]
    fn product_id_and_offer_type_together_are_refused() {
        let err = Request::from_json(
            r#"{"op":"getProductPolicy","policyId":"P","productId":"A","offerType":"B"}"#,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(Request::from_json(r#"{"op":"getProductPolicy","policyId":"P"}"#).is_err());
    }

    #[test]
    fn update_is_a_put_of_the_canonical_value() {
        let request = Request::from_json(
            r#"{"op":"updateProductPolicy","policyId":"P","productId":"A","value":"disabled"}"#,
        )
        .unwrap();
        let http = request.http(&base()).unwrap();
        assert_eq!(http.method, reqwest::Method::PUT);
        assert_eq!(http.body.as_deref(), Some(r#"{"policyValue":"Disabled"}"#));
        assert!(request.is_write());
    }

    #[test]
    fn enabled_takes_true_and_false_in_any_case() {
        for (enabled, value) in [
            ("True", "Enabled"),
            ("true", "Enabled"),
            ("FALSE", "Disabled"),
            ("False", "Disabled"),
        ] {
            let json = serde_json::json!({"op":"updateProductPolicy","policyId":"P","offerType":"SaaS","enabled":enabled}).to_string();
            match Request::from_json(&json).unwrap().operation {
                Operation::UpdateProductPolicy { value: got, .. } => {
                    assert_eq!(got, value, "{enabled}")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn enabled_other_than_true_or_false_gives_the_contract_message_and_no_call() {
        for enabled in ["yes", "1", "$true", ""] {
            let json = serde_json::json!({"op":"updateProductPolicy","policyId":"P","productId":"A","enabled":enabled}).to_string();
            let err = Request::from_json(&json).unwrap_err();
            assert_eq!(
                err.message(),
                "Value of $Enabled must be one of the following: $True, $true, $False, $false",
                "{enabled}"
            );
            assert_eq!(err.target(), Some("A"));
        }
    }

    #[test]
    fn unknown_value_is_refused_before_any_call() {
        let err = Request::from_json(
            r#"{"op":"updateProductPolicy","policyId":"P","productId":"A","value":"Maybe"}"#,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    }

    #[test]
    fn what_failed_matches_the_contract() {
        let request = Request::from_json(r#"{"op":"getPolicy","policyId":"X"}"#).unwrap();
        assert_eq!(
            request.what_failed(),
            "Failed to retrieve policy with PolicyId 'X'"
        );
        let request = Request::from_json(r#"{"op":"getProductPolicies","policyId":"X"}"#).unwrap();
        assert_eq!(
            request.what_failed(),
            "Failed to retrieve product policy with PolicyId 'X'"
        );
    }

    fn parse(json: serde_json::Value) -> Result<Request> {
        Request::from_json(&json.to_string())
    }

    #[test]
    fn a_bulk_update_keeps_its_items_in_order_and_refuses_only_a_bad_id() {
        let request = parse(serde_json::json!({
            "op": "updateProductPolicies",
            "items": [
                {"policyId": "P", "productId": "A"},
                {"policyId": "P", "productId": ".."},
                {"policyId": "P", "offerType": "SaaS"}
            ],
            "enabled": "false"
        }))
        .unwrap();
        let Operation::UpdateProductPolicies {
            items,
            value,
            throttle_limit,
        } = request.operation
        else {
            panic!("not a bulk update");
        };
        assert_eq!(
            (value.as_str(), throttle_limit),
            ("Disabled", DEFAULT_THROTTLE_LIMIT)
        );
        assert_eq!(
            items.iter().map(BulkItem::id).collect::<Vec<_>>(),
            ["A", "..", "SaaS"]
        );
        assert!(
            matches!(&items[1], BulkItem::Invalid { error, .. } if error.target() == Some(".."))
        );
        assert!(matches!(
            &items[2],
            BulkItem::Valid {
                item: Item::OfferType(_),
                ..
            }
        ));
    }

    #[test]
    fn a_bulk_update_needs_items_a_known_value_and_a_throttle_limit_in_range() {
        let item = serde_json::json!([{"policyId": "P", "productId": "A"}]);
        for bad in [
            serde_json::json!({"op": "updateProductPolicies", "items": [], "value": "Disabled"}),
            serde_json::json!({"op": "updateProductPolicies", "items": item, "value": "Maybe"}),
            serde_json::json!({"op": "updateProductPolicies", "items": item, "value": "Disabled", "throttleLimit": 0}),
            serde_json::json!({"op": "updateProductPolicies", "items": item, "value": "Disabled", "throttleLimit": 65}),
            serde_json::json!({"op": "updateProductPolicies", "items": [{"policyId": "P", "productId": "A", "x": 1}], "value": "Disabled"}),
        ] {
            assert_eq!(
                parse(bad.clone()).unwrap_err().kind(),
                ErrorKind::InvalidArgument,
                "{bad}"
            );
        }
    }

    #[test]
    fn a_selection_takes_all_or_names_but_not_both_and_checks_its_patterns() {
        let ok = parse(serde_json::json!({"op": "selectItems", "policyId": "P", "all": true, "scope": "offertype", "exclude": ["Dyn*"]})).unwrap();
        assert!(matches!(
            ok.operation,
            Operation::SelectItems(Selection {
                scope: Scope::OfferType,
                all: true,
                ..
            })
        ));
        for bad in [
            serde_json::json!({"op": "selectItems", "policyId": "P"}),
            serde_json::json!({"op": "selectItems", "policyId": "P", "all": true, "names": ["x"]}),
            serde_json::json!({"op": "selectItems", "policyId": "P", "names": ["x["]}),
            serde_json::json!({"op": "selectItems", "policyId": "P", "all": true, "scope": "Tenant"}),
        ] {
            assert_eq!(
                parse(bad.clone()).unwrap_err().kind(),
                ErrorKind::InvalidArgument,
                "{bad}"
            );
        }
    }

    #[test]
    fn baseline_paths_must_be_absolute() {
        let error =
            parse(serde_json::json!({"op": "testBaseline", "path": "relative.json"})).unwrap_err();
        assert_eq!(
            (error.kind(), error.target()),
            (ErrorKind::InvalidArgument, Some("relative.json"))
        );
        let absolute = std::env::temp_dir().join("b.json");
        assert!(parse(
            serde_json::json!({"op": "exportBaseline", "policyId": "P", "path": absolute})
        )
        .is_ok());
    }

    #[test]
    fn any_request_may_carry_the_callers_variables() {
        let request = parse(serde_json::json!({
            "op": "getConnection",
            "variables": {"MSCOMMERCE_SERVICE_URI": "http://127.0.0.1:5000", "PATH": "/bin"},
        }))
        .unwrap();
        let variables = request.variables.unwrap();
        assert_eq!(
            variables.get("MSCOMMERCE_SERVICE_URI"),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(variables.get("PATH"), None);
        let without = parse(serde_json::json!({"op": "getPolicies", "variables": null})).unwrap();
        assert!(without.variables.is_none());
        let error =
            parse(serde_json::json!({"op": "getPolicies", "variables": ["HOME"]})).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        // The operation's own fields are still checked.
        assert!(parse(serde_json::json!({"op": "getPolicies", "variable": {}})).is_err());
    }

    #[test]
    fn completion_knows_four_parameters() {
        for kind in ["policyId", "productId", "productName", "offerType"] {
            assert!(
                parse(serde_json::json!({"op": "complete", "kind": kind, "word": "x"})).is_ok(),
                "{kind}"
            );
        }
        assert!(parse(serde_json::json!({"op": "complete", "kind": "token"})).is_err());
    }
}
