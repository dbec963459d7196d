//! Requests: the JSON the shim sends to `mc_client_new` ([`RawConfig`]) and `mc_invoke`
//! ([`RawRequest`]), and the validated
//! [`Request`] the client runs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::defaults::{MAX_THROTTLE_LIMIT, THROTTLE_LIMIT as DEFAULT_THROTTLE_LIMIT};
use crate::auth::signin::RawSignIn;
use crate::auth::{ConnectOptions, RawConnect};
use crate::error::{Error, ErrorKind, Result};
use crate::policy::{absolute_path, check_id, new_value, Item, Scope, Wildcard, PRODUCT_SCOPE};
use crate::secret::Secret;
use crate::settings::Variables;

/// Requests larger than this are refused before parsing.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// The most items one bulk update takes.
pub(crate) const MAX_BULK_ITEMS: usize = 100_000;

/// One item of a bulk update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BulkItem {
    /// An item to update.
    Valid {
        /// The policy.
        policy_id: String,
        /// The product or offer type.
        item: Item,
        /// The new value, spelled as the service spells it.
        value: String,
        /// The tenant to update it in; none is the connection's own.
        tenant: Option<String>,
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
pub(crate) enum CompletionKind {
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
pub(crate) struct Selection {
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

/// Which items an `updateProductPolicies` plan covers (`planUpdate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pick {
    /// Items by id (`-ProductId`, `-OfferType`), as given: an id the core refuses is reported
    /// by the update, item by item, as when it is sent directly.
    Ids {
        /// The policy.
        policy_id: String,
        /// Products or offer types.
        scope: Scope,
        /// The ids.
        ids: Vec<String>,
    },
    /// The items a selection picks (`-ProductName`, `-All`, `-Exclude`), with their values now.
    Selection(Selection),
}

/// How an application signs in (`connect` with an app flow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AppConnect {
    /// `-ClientSecretCredential`: the app id and its secret.
    Secret {
        /// The app's tenant (an id or a domain).
        tenant: String,
        /// The app id.
        client_id: String,
        /// The secret.
        secret: Secret,
    },
    /// `-CertificateThumbprint`, `-CertificateName`, `-Certificate`: a signed assertion.
    Certificate {
        /// The app's tenant (an id or a domain).
        tenant: String,
        /// The app id.
        client_id: String,
        /// The certificate the shim found and registered.
        certificate: crate::auth::app::RawCertificate,
    },
    /// `-Identity`: the Azure host's managed identity; a client id picks a user-assigned one.
    ManagedIdentity {
        /// A user-assigned identity's client id.
        client_id: Option<String>,
    },
    /// `-EnvironmentVariable`: `AZURE_CLIENT_ID`, `AZURE_TENANT_ID` and a secret, certificate or
    /// federated token file.
    Environment {
        /// The certificate of `AZURE_CLIENT_CERTIFICATE_PATH`, when the shim loaded one.
        certificate: Option<crate::auth::app::RawCertificate>,
    },
}

/// One request to the core, as the shim sends it (see `docs/abi.md`).
#[derive(Debug, Clone)]
pub struct Request {
    /// What to do.
    pub(crate) operation: Operation,
    /// Routes log lines and progress back to the caller's pipeline.
    pub(crate) operation_id: u64,
    /// A token to use instead of the client's credential (the cmdlets' `-Token`).
    pub(crate) token: Option<Secret>,
    /// The environment variables as the caller saw them when it sent the request (`variables`);
    /// they replace the client's for this request and later ones. `None` keeps the client's.
    pub(crate) variables: Option<Variables>,
    /// The tenants to run the request in (`-TenantId`), each an id or a domain, without
    /// duplicates; empty runs it in the connection's own tenant.
    pub(crate) tenants: Vec<String>,
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
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
        options: ConnectOptions,
    },
    /// `Connect-MSCommerce` as an application (certificate, secret, managed identity, the
    /// environment's credential): gets a first token and keeps the credential in memory.
    ConnectApp {
        /// How the application signs in.
        app: AppConnect,
        /// What the tokens are for.
        resource: String,
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
    /// Many updates, each item with its value, run concurrently; each item succeeds or fails on
    /// its own.
    UpdateProductPolicies {
        /// The items, in the order given.
        items: Vec<BulkItem>,
        /// How many updates run at once.
        throttle_limit: usize,
    },
    /// What `Update-MSCommerceProductPolicy` would change: each item with the text `-WhatIf` and
    /// `-Confirm` show, ready for `updateProductPolicies`. Sends nothing for items by id.
    PlanUpdate {
        /// The items.
        pick: Pick,
        /// The new value, spelled as the service spells it.
        value: String,
    },
    /// What `Import-MSCommercePolicy` would change: each item that differs from the baseline
    /// file, set back to the file's value.
    PlanImport {
        /// The file, absolute.
        path: std::path::PathBuf,
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
        /// The value of products added after the baseline, spelled as the service spells it.
        new_products: Option<String>,
    },
    /// `Export-MSCommercePolicyReport`: one HTML page of a policy's product values in each
    /// tenant (`tenants`, else the connection's own), drift from a baseline file marked.
    ExportReport {
        /// The policy.
        policy_id: String,
        /// The page, absolute.
        path: std::path::PathBuf,
        /// The baseline file drift is shown against, absolute.
        baseline: Option<std::path::PathBuf>,
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

/// The configuration of `mc_client_new`, as the shim sends it.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub(crate) environment: Option<String>,
    pub(crate) service_uri: Option<String>,
    pub(crate) authority_uri: Option<String>,
    pub(crate) access_token: Option<String>,
    pub(crate) user_agent: Option<String>,
    pub(crate) timeout_seconds: Option<f64>,
    pub(crate) max_attempts: Option<f64>,
    pub(crate) retry_budget_seconds: Option<f64>,
    pub(crate) retry_base_delay_seconds: Option<f64>,
    pub(crate) retry_max_delay_seconds: Option<f64>,
    pub(crate) variables: Option<Variables>,
    pub(crate) edition: Option<String>,
}

/// A request as the shim sends it: `op` names the operation, and each operation takes its own
/// fields, refusing others. `variables` may come with any of them (see [`Request::from_json`]).
#[derive(Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "camelCase", deny_unknown_fields)]
pub(crate) enum RawRequest {
    #[serde(rename_all = "camelCase")]
    Connect {
        operation_id: Option<u64>,
        /// `browser` or `deviceCode` (a user signs in); `clientSecret`, `certificate`,
        /// `managedIdentity` or `environment` (an application does, unattended).
        flow: String,
        tenant_id: Option<String>,
        client_id: Option<String>,
        resource: Option<String>,
        redirect_uri: Option<String>,
        login_hint: Option<String>,
        context_scope: Option<String>,
        timeout_seconds: Option<f64>,
        /// `clientSecret`: the application's secret.
        client_secret: Option<String>,
        /// `certificate`, and `environment` with `AZURE_CLIENT_CERTIFICATE_PATH`: the certificate
        /// the shim loaded and registered with its signer.
        certificate: Option<crate::auth::app::RawCertificate>,
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
        /// The value of every item that gives none of its own.
        value: Option<String>,
        /// `-Enabled`, for every item that gives no value of its own.
        enabled: Option<String>,
        throttle_limit: Option<u64>,
    },
    #[serde(rename_all = "camelCase")]
    PlanUpdate {
        operation_id: Option<u64>,
        token: Option<String>,
        policy_id: String,
        /// `Product` (the default) or `OfferType`: the scope of `ids` and of `all`.
        scope: Option<String>,
        /// Product ids or offer types, as given (`-ProductId`, `-OfferType`).
        ids: Option<Vec<String>>,
        /// Product names, wildcards allowed (`-ProductName`).
        names: Option<Vec<String>>,
        /// Every item of the scope (`-All`).
        all: Option<bool>,
        /// With `all`: ids or names to leave out, wildcards allowed (`-Exclude`).
        exclude: Option<Vec<String>>,
        /// The new value (`-Value`).
        value: Option<String>,
        /// `-Enabled`, as the string it was bound to.
        enabled: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    PlanImport {
        operation_id: Option<u64>,
        token: Option<String>,
        path: String,
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
    ExportReport {
        operation_id: Option<u64>,
        token: Option<String>,
        policy_id: String,
        path: String,
        /// The baseline file drift is shown against (`-BaselinePath`).
        baseline_path: Option<String>,
        no_clobber: Option<bool>,
    },
    #[serde(rename_all = "camelCase")]
    ExportBaseline {
        operation_id: Option<u64>,
        token: Option<String>,
        policy_id: String,
        path: String,
        no_clobber: Option<bool>,
        /// The value of products added after the baseline (`-NewProducts`): a version 2 file.
        new_products: Option<String>,
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

/// One item of an `updateProductPolicies` request, as a plan gives it back.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawTarget {
    /// The policy.
    pub policy_id: String,
    /// The product, or none for an offer type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// The offer type, or none for a product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_type: Option<String>,
    /// The item's new value; none takes the request's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `-Enabled` for this item; none takes the request's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<String>,
    /// The tenant the item is in (an id or a domain); none is the connection's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
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
            Some(value) => Some(Variables::deserialize(value).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("The request's variables must be an object of strings: {e}"),
                )
            })?),
        };
        let tenants = match fields.remove("tenants") {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(value) => tenant_list(value)?,
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
                client_secret,
                certificate,
            } => {
                let operation = if APP_FLOWS.contains(&flow.as_str()) {
                    if redirect_uri.is_some() || login_hint.is_some() || context_scope.is_some() {
                        return Err(Error::new(
                            ErrorKind::InvalidArgument,
                            "An application signs in without a redirect URI, login hint or context scope.",
                        ));
                    }
                    let app = app_connect(&flow, tenant_id, client_id, client_secret, certificate)?;
                    let resource = resource
                        .map(|r| r.trim().to_owned())
                        .filter(|r| !r.is_empty())
                        .unwrap_or_else(|| crate::auth::signin::LICENSING_RESOURCE.to_owned());
                    Operation::ConnectApp { app, resource }
                } else {
                    if client_secret.is_some() || certificate.is_some() {
                        return Err(Error::new(
                            ErrorKind::InvalidArgument,
                            "A user signs in without a client secret or certificate.",
                        ));
                    }
                    let options = ConnectOptions::parse(RawConnect {
                        flow,
                        signin: RawSignIn {
                            tenant_id,
                            client_id,
                            resource,
                        },
                        redirect_uri,
                        login_hint,
                        context_scope,
                        timeout_seconds,
                    })?;
                    Operation::Connect { options }
                };
                (operation, operation_id, None)
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
                    item: Item::one_of(product_id, offer_type)?,
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
                let item = Item::one_of(product_id, offer_type)?;
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
            } => (
                Operation::SelectItems(selection(policy_id, scope, all, names, exclude)?),
                operation_id,
                token,
            ),
            RawRequest::PlanUpdate {
                operation_id,
                token,
                policy_id,
                scope,
                ids,
                names,
                all,
                exclude,
                value,
                enabled,
            } => {
                let value = new_value(value, enabled)?;
                let pick = match ids {
                    Some(ids) if names.is_none() && all.is_none() && exclude.is_none() => {
                        if ids.is_empty() {
                            return Err(Error::new(
                                ErrorKind::InvalidArgument,
                                "Give at least one id.",
                            ));
                        }
                        Pick::Ids {
                            policy_id: check_id("PolicyId", policy_id)?,
                            scope: Scope::parse(scope.as_deref())?,
                            ids,
                        }
                    }
                    Some(_) => {
                        return Err(Error::new(
                            ErrorKind::InvalidArgument,
                            "Give either ids, or names, or all.",
                        ))
                    }
                    None => Pick::Selection(selection(policy_id, scope, all, names, exclude)?),
                };
                (Operation::PlanUpdate { pick, value }, operation_id, token)
            }
            RawRequest::PlanImport {
                operation_id,
                token,
                path,
            } => (
                Operation::PlanImport {
                    path: absolute_path(path)?,
                },
                operation_id,
                token,
            ),
            RawRequest::ExportReport {
                operation_id,
                token,
                policy_id,
                path,
                baseline_path,
                no_clobber,
            } => (
                Operation::ExportReport {
                    policy_id: check_id("PolicyId", policy_id)?,
                    path: absolute_path(path)?,
                    baseline: baseline_path.map(absolute_path).transpose()?,
                    no_clobber: no_clobber.unwrap_or(false),
                },
                operation_id,
                token,
            ),
            RawRequest::ExportBaseline {
                operation_id,
                token,
                policy_id,
                path,
                no_clobber,
                new_products,
            } => (
                Operation::ExportBaseline {
                    policy_id: check_id("PolicyId", policy_id)?,
                    path: absolute_path(path)?,
                    no_clobber: no_clobber.unwrap_or(false),
                    new_products: new_products.map(|v| new_value(Some(v), None)).transpose()?,
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
        if !tenants.is_empty() && !operation.runs_in_tenants() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "This request runs in the connection's tenant only: it takes no tenants.",
            ));
        }
        Ok(Request {
            operation,
            operation_id: operation_id.unwrap_or(0),
            token: token.and_then(Secret::new),
            variables,
            tenants,
        })
    }

    /// The id the user passed that errors of this request are about.
    pub fn target(&self) -> Option<&str> {
        match &self.operation {
            Operation::GetPolicies
            | Operation::Connect { .. }
            | Operation::ConnectApp { .. }
            | Operation::GetConnection
            | Operation::Disconnect { .. }
            | Operation::UpdateProductPolicies { .. }
            | Operation::Complete { .. } => None,
            Operation::GetPolicy { policy_id }
            | Operation::GetProductPolicies { policy_id, .. }
            | Operation::SelectItems(Selection { policy_id, .. })
            | Operation::PlanUpdate {
                pick: Pick::Ids { policy_id, .. } | Pick::Selection(Selection { policy_id, .. }),
                ..
            } => Some(policy_id),
            Operation::ExportBaseline { path, .. }
            | Operation::ExportReport { path, .. }
            | Operation::TestBaseline { path }
            | Operation::PlanImport { path } => path.to_str(),
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
}

impl Operation {
    /// Whether the operation can run in tenants other than the connection's (`tenants`). An
    /// update of many items names the tenant per item instead.
    fn runs_in_tenants(&self) -> bool {
        matches!(
            self,
            Operation::GetPolicies
                | Operation::GetPolicy { .. }
                | Operation::GetProductPolicies { .. }
                | Operation::GetProductPolicy { .. }
                | Operation::UpdateProductPolicy { .. }
                | Operation::PlanUpdate { .. }
                | Operation::PlanImport { .. }
                | Operation::SelectItems(_)
                | Operation::ExportBaseline { .. }
                | Operation::ExportReport { .. }
                | Operation::TestBaseline { .. }
        )
    }
}

/// The most tenants one request may name.
pub(crate) const MAX_TENANTS: usize = 1000;

/// The `tenants` of a request: a list of tenant ids or domains, each checked, duplicates (in
/// any case) dropped, in the order given.
fn tenant_list(value: serde_json::Value) -> Result<Vec<String>> {
    let raw = Vec::<String>::deserialize(value).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("The request's tenants must be a list of strings: {e}"),
        )
    })?;
    if raw.len() > MAX_TENANTS {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("Give at most {MAX_TENANTS} tenants."),
        ));
    }
    let mut tenants: Vec<String> = Vec::with_capacity(raw.len());
    for tenant in raw {
        let tenant = check_tenant(&tenant)?;
        if !tenants.iter().any(|t| t.eq_ignore_ascii_case(&tenant)) {
            tenants.push(tenant);
        }
    }
    Ok(tenants)
}

/// A tenant as `-TenantId` gives it: an id or a domain, not `organizations` or `common` (which
/// name no tenant).
pub(crate) fn check_tenant(tenant: &str) -> Result<String> {
    let trimmed = tenant.trim();
    let refuse = |why: &str| {
        Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("'{trimmed}' is not a tenant: {why}"),
        )
        .with_target(Some(trimmed)))
    };
    if trimmed.is_empty() || trimmed.len() > 256 {
        return refuse("give a tenant id or a domain such as contoso.onmicrosoft.com.");
    }
    if !trimmed
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return refuse("a tenant id or domain has only letters, digits, dots and dashes.");
    }
    if ["organizations", "common", "consumers"]
        .iter()
        .any(|any| trimmed.eq_ignore_ascii_case(any))
    {
        return refuse("give the tenant's id or domain.");
    }
    Ok(trimmed.to_owned())
}

/// The `connect` flows in which an application signs in.
const APP_FLOWS: [&str; 4] = [
    "clientSecret",
    "certificate",
    "managedIdentity",
    "environment",
];

/// An application's sign-in from the fields of a `connect` request.
fn app_connect(
    flow: &str,
    tenant_id: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    certificate: Option<crate::auth::app::RawCertificate>,
) -> Result<AppConnect> {
    let required = |name: &str, value: Option<String>| -> Result<String> {
        value
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("Signing in as an application with {flow} needs {name}."),
                )
            })
    };
    let refuse = |name: &str, given: bool| -> Result<()> {
        if given {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("Signing in as an application with {flow} takes no {name}."),
            ));
        }
        Ok(())
    };
    match flow {
        "clientSecret" => {
            refuse("certificate", certificate.is_some())?;
            let secret = client_secret.and_then(Secret::new).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    "Signing in as an application with clientSecret needs the secret.",
                )
            })?;
            Ok(AppConnect::Secret {
                tenant: required("a tenant", tenant_id)?,
                client_id: required("a client id", client_id)?,
                secret,
            })
        }
        "certificate" => {
            refuse("client secret", client_secret.is_some())?;
            Ok(AppConnect::Certificate {
                tenant: required("a tenant", tenant_id)?,
                client_id: required("a client id", client_id)?,
                certificate: certificate.ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidArgument,
                        "Signing in as an application with certificate needs the certificate.",
                    )
                })?,
            })
        }
        "managedIdentity" => {
            refuse("client secret", client_secret.is_some())?;
            refuse("certificate", certificate.is_some())?;
            refuse("tenant", tenant_id.is_some())?;
            Ok(AppConnect::ManagedIdentity {
                client_id: client_id
                    .map(|id| id.trim().to_owned())
                    .filter(|id| !id.is_empty()),
            })
        }
        _ => {
            refuse("client secret", client_secret.is_some())?;
            refuse("tenant", tenant_id.is_some())?;
            refuse("client id", client_id.is_some())?;
            Ok(AppConnect::Environment { certificate })
        }
    }
}

/// The selection of `selectItems` and of a `planUpdate` by names or `all`.
fn selection(
    policy_id: String,
    scope: Option<String>,
    all: Option<bool>,
    names: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
) -> Result<Selection> {
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
    Ok(selection)
}

/// Validates an `updateProductPolicies` request: the items, each with its own value or the
/// request's. An item whose id or value is refused is reported, not sent; an item with no value
/// at all, an empty or huge list, or a bad throttle limit refuses the request, so nothing is half
/// applied for want of a value.
fn bulk_update(
    items: Vec<RawTarget>,
    value: Option<String>,
    enabled: Option<String>,
    throttle_limit: Option<u64>,
) -> Result<Operation> {
    let shared = match (&value, &enabled) {
        (None, None) => None,
        _ => Some(new_value(value, enabled)?),
    };
    if items.is_empty() || items.len() > MAX_BULK_ITEMS {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("Give between 1 and {MAX_BULK_ITEMS} items."),
        ));
    }
    if shared.is_none()
        && items
            .iter()
            .any(|item| item.value.is_none() && item.enabled.is_none())
    {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "Give a value (value or enabled) for the request or for every item.",
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
            let value = match (raw.value, raw.enabled, &shared) {
                (None, None, Some(shared)) => Ok(shared.clone()),
                (value, enabled, _) => new_value(value, enabled),
            };
            let tenant = raw.tenant_id.as_deref().map(check_tenant).transpose();
            match (
                check_id("PolicyId", raw.policy_id),
                Item::one_of(raw.product_id, raw.offer_type),
                value,
                tenant,
            ) {
                (Ok(policy_id), Ok(item), Ok(value), Ok(tenant)) => BulkItem::Valid {
                    policy_id,
                    item,
                    value,
                    tenant,
                },
                (Err(error), _, _, _)
                | (_, Err(error), _, _)
                | (_, _, Err(error), _)
                | (_, _, _, Err(error)) => BulkItem::Invalid {
                    error: error.with_target(Some(&id)),
                    id,
                },
            }
        })
        .collect();
    Ok(Operation::UpdateProductPolicies {
        items,
        throttle_limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn unknown_operation_and_fields_are_refused() {
        assert!(Request::from_json(r#"{"op":"deleteEverything"}"#).is_err());
        assert!(Request::from_json(r#"{"op":"getPolicies","extra":1}"#).is_err());
        assert!(Request::from_json("not json").is_err());
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
            throttle_limit,
        } = request.operation
        else {
            panic!("not a bulk update");
        };
        assert_eq!(throttle_limit, DEFAULT_THROTTLE_LIMIT);
        assert!(matches!(&items[0], BulkItem::Valid { value, .. } if value == "Disabled"));
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
            serde_json::json!({"op": "updateProductPolicies", "items": item, "value": "Disabled", "throttleLimit": 257}),
            serde_json::json!({"op": "updateProductPolicies", "items": [{"policyId": "P", "productId": "A", "x": 1}], "value": "Disabled"}),
            serde_json::json!({"op": "updateProductPolicies", "items": item}),
            serde_json::json!({"op": "updateProductPolicies", "items": [{"policyId": "P", "productId": "A", "value": "Enabled"}, {"policyId": "P", "productId": "B"}]}),
        ] {
            assert_eq!(
                parse(bad.clone()).unwrap_err().kind(),
                ErrorKind::InvalidArgument,
                "{bad}"
            );
        }
    }

    #[test]
    fn an_item_value_wins_over_the_request_value_and_a_bad_one_refuses_only_that_item() {
        let request = parse(serde_json::json!({
            "op": "updateProductPolicies",
            "items": [
                {"policyId": "P", "productId": "A", "value": "enabled"},
                {"policyId": "P", "productId": "B"},
                {"policyId": "P", "productId": "C", "value": "Maybe"},
                {"policyId": "P", "offerType": "SaaS", "enabled": "True"}
            ],
            "value": "Disabled"
        }))
        .unwrap();
        let Operation::UpdateProductPolicies { items, .. } = request.operation else {
            panic!("not a bulk update");
        };
        let values: Vec<Option<&str>> = items
            .iter()
            .map(|item| match item {
                BulkItem::Valid { value, .. } => Some(value.as_str()),
                BulkItem::Invalid { .. } => None,
            })
            .collect();
        assert_eq!(
            values,
            [Some("Enabled"), Some("Disabled"), None, Some("Enabled")]
        );
        assert!(
            matches!(&items[2], BulkItem::Invalid { error, .. } if error.target() == Some("C"))
        );
    }

    #[test]
    fn a_plan_takes_ids_or_names_or_all_and_a_value() {
        let ids = parse(serde_json::json!({"op": "planUpdate", "policyId": "P", "scope": "OfferType", "ids": ["SaaS", ".."], "enabled": "False"})).unwrap();
        assert_eq!(
            ids.operation,
            Operation::PlanUpdate {
                pick: Pick::Ids {
                    policy_id: "P".to_owned(),
                    scope: Scope::OfferType,
                    ids: vec!["SaaS".to_owned(), "..".to_owned()],
                },
                value: "Disabled".to_owned(),
            }
        );
        let all = parse(serde_json::json!({"op": "planUpdate", "policyId": "P", "all": true, "exclude": ["Power*"], "value": "Enabled"})).unwrap();
        assert!(matches!(
            all.operation,
            Operation::PlanUpdate {
                pick: Pick::Selection(Selection { all: true, .. }),
                ..
            }
        ));
        for bad in [
            serde_json::json!({"op": "planUpdate", "policyId": "P", "ids": ["A"]}),
            serde_json::json!({"op": "planUpdate", "policyId": "P", "ids": [], "value": "Enabled"}),
            serde_json::json!({"op": "planUpdate", "policyId": "P", "ids": ["A"], "all": true, "value": "Enabled"}),
            serde_json::json!({"op": "planUpdate", "policyId": "P", "value": "Enabled"}),
            serde_json::json!({"op": "planUpdate", "policyId": "P", "ids": ["A"], "value": "Maybe"}),
            serde_json::json!({"op": "planImport", "path": "relative.json"}),
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

    #[test]
    fn tenants_are_checked_and_given_once_in_the_order_given() {
        let request = Request::from_json(
            r#"{"op":"getPolicies","tenants":[" adatum.onmicrosoft.com ","LITWARE.onmicrosoft.com","litware.onmicrosoft.com"]}"#,
        )
        .expect("a request in tenants");
        assert_eq!(
            request.tenants,
            ["adatum.onmicrosoft.com", "LITWARE.onmicrosoft.com"]
        );
    }

    #[test]
    fn a_tenant_that_names_no_tenant_is_refused() {
        for bad in ["organizations", "", "contoso.com/x", "a b"] {
            let error = Request::from_json(
                &serde_json::json!({"op": "getPolicies", "tenants": [bad]}).to_string(),
            )
            .expect_err(bad);
            assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn requests_of_the_connection_take_no_tenants() {
        for op in ["getConnection", "disconnect"] {
            let error = Request::from_json(
                &serde_json::json!({"op": op, "tenants": ["adatum.onmicrosoft.com"]}).to_string(),
            )
            .expect_err(op);
            assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{op}");
        }
    }
}
