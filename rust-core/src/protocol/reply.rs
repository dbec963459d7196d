//! Replies: the `data` of a successful envelope, one type per answer, all in camelCase. The C#
//! data contracts (`dotnet-shim/Interop/Contracts.g.cs`) are generated from these types by
//! `tests/contracts.rs`.

use schemars::JsonSchema;
use serde::Serialize;

use crate::error::Error;
use crate::protocol::RawTarget;

/// The data of a successful `mc_client_new`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    /// The service URI as the core normalised it, without a trailing slash.
    pub service_uri: String,
}

/// The data of `connect` and `getConnection`: who is connected where; never a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// True while the client holds a connection (a session or an access token).
    pub connected: bool,
    /// `Browser`, `DeviceCode`, `TokenCache` or `AccessToken` for a user; `AppOnly` or
    /// `WorkloadIdentity` for an application, or the managed identity's source (`AppService`,
    /// `AzureArc`, `Imds`, ...); none when not connected.
    pub flow: Option<String>,
    /// `Delegated` (a user's token), `AppOnly` (an application's secret or certificate),
    /// `ManagedIdentity` or `WorkloadIdentity`; none when not connected.
    pub auth_type: Option<String>,
    /// The signed-in account (its user principal name), when known.
    pub account: Option<String>,
    /// The application (client) id the tokens are issued to, when known.
    pub app_id: Option<String>,
    /// The thumbprint of the certificate an application signs in with.
    pub certificate_thumbprint: Option<String>,
    /// The account's tenant id, when known.
    pub tenant_id: Option<String>,
    /// The cloud: `Public`, or `Custom` for other endpoints.
    pub environment: String,
    /// The licensing service, without a trailing slash.
    pub service_uri: String,
    /// The sign-in authority, without a trailing slash.
    pub authority_uri: String,
    /// When the access token expires, in Unix seconds; none for a token obtained elsewhere.
    pub expires_on: Option<u64>,
    /// `CurrentUser` when the sign-in is kept for later sessions, `Process` when not.
    pub context_scope: Option<String>,
    /// Where the sign-in is kept: the OS secret store's name, or the file folder.
    pub token_cache: Option<String>,
    /// The account's own tenant (its id), which the token cache keys it by; differs from
    /// `tenant_id` when a partner's account is connected to a customer's tenant.
    pub home_tenant_id: Option<String>,
    /// The tenants the connection holds tokens for (their ids), its own first.
    pub tenants: Vec<String>,
}

/// The data of `disconnect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Disconnected {
    /// Whether the client held a connection.
    pub was_connected: bool,
    /// Whether a cached account was removed (`forget`).
    pub forgotten: bool,
}

/// A policy of the licensing service, as Get-MSCommercePolicies and Get-MSCommercePolicy write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// The policy's id, such as `AllowSelfServicePurchase`.
    pub policy_id: String,
    /// What the policy controls.
    pub description: Option<String>,
    /// The value products have until an admin sets one.
    pub default_value: Option<String>,
    /// The tenant the object came from (its id), when known.
    pub tenant_id: Option<String>,
}

/// A policy's value for one product. The fields are in the order the original module prints
/// them on Windows PowerShell 5.1 (PolicyValue, ProductId, PolicyId, ProductName): scripts split
/// its table rows on whitespace in that order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductPolicy {
    /// `Enabled`, `Disabled` or `OnlyTrialsWithoutPaymentMethod`.
    pub policy_value: Option<String>,
    /// The product's id, such as `CFQ7TTC0KP0P`.
    pub product_id: Option<String>,
    /// The policy's id, such as `AllowSelfServicePurchase`.
    pub policy_id: String,
    /// The product's name.
    pub product_name: Option<String>,
    /// The tenant the object came from (its id), when known.
    pub tenant_id: Option<String>,
}

/// A policy's value for a scope other than a product, such as an offer type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScopePolicy {
    /// The policy's id, such as `AllowSelfServicePurchase`.
    pub policy_id: String,
    /// `Enabled` or `Disabled`.
    pub policy_value: Option<String>,
    /// The id of the scope's member, such as an offer type.
    pub scope_id: Option<String>,
    /// The member's display value.
    pub scope_value: Option<String>,
    /// The scope, such as `OfferType`.
    pub scope: Option<String>,
    /// The tenant the object came from (its id), when known.
    pub tenant_id: Option<String>,
}

/// One product or offer type that differs from a baseline file (Test-MSCommercePolicy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyDrift {
    /// The policy's id, such as `AllowSelfServicePurchase`.
    pub policy_id: String,
    /// `Product` or `OfferType`.
    pub scope: String,
    /// The product id or offer type.
    pub id: String,
    /// The product's or offer type's name.
    pub name: Option<String>,
    /// `Changed` (the value differs), `Added` (not in the baseline) or `Removed` (no longer listed).
    pub change: String,
    /// The baseline's value; null for an added item.
    pub baseline_value: Option<String>,
    /// The value now; null for a removed item.
    pub current_value: Option<String>,
    /// The tenant the object came from (its id), when known.
    pub tenant_id: Option<String>,
}

/// An object a cmdlet outputs; `kind` names its model class (`MSCommerce.<kind>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "kind")]
pub enum OutputItem {
    /// `MSCommerce.Policy`.
    Policy(Policy),
    /// `MSCommerce.ProductPolicy`.
    ProductPolicy(ProductPolicy),
    /// `MSCommerce.ScopePolicy`: an offer type or another non-product scope.
    ScopePolicy(ScopePolicy),
    /// `MSCommerce.PolicyDrift`: one item that differs from a baseline.
    PolicyDrift(PolicyDrift),
}

impl OutputItem {
    /// Names the tenant the object came from.
    pub fn set_tenant(&mut self, tenant_id: Option<&str>) {
        let slot = match self {
            OutputItem::Policy(item) => &mut item.tenant_id,
            OutputItem::ProductPolicy(item) => &mut item.tenant_id,
            OutputItem::ScopePolicy(item) => &mut item.tenant_id,
            OutputItem::PolicyDrift(item) => &mut item.tenant_id,
        };
        *slot = tenant_id.map(str::to_owned);
    }

    /// The same object, naming the tenant it came from.
    pub fn in_tenant(mut self, tenant_id: Option<&str>) -> Self {
        self.set_tenant(tenant_id);
        self
    }
}

/// The data of a request run in several tenants (`tenants`): every tenant's objects, each
/// naming its tenant, and one error per tenant that could not be served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantOutput {
    /// The objects, tenant after tenant in the order the tenants were given.
    pub items: Vec<OutputItem>,
    /// One error per tenant that failed, its target the tenant as given.
    pub errors: Vec<ErrorReply>,
}

/// A failure as the ABI carries it: the `error` of a failed envelope, of a bulk result, and of a
/// selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorReply {
    /// The stable name of the failure (`NotFound`, ...): the FullyQualifiedErrorId.
    pub code: String,
    /// The name of the PowerShell `ErrorCategory`.
    pub category: String,
    /// Whether the cmdlet throws rather than writes a non-terminating error.
    pub terminating: bool,
    /// The contract's message; never a token.
    pub message: String,
    /// The id the user passed that the failure is about.
    pub target: Option<String>,
    /// The `x-ms-correlation-id` of the failed request.
    pub correlation_id: Option<String>,
    /// The HTTP status the service answered with.
    pub http_status: Option<u16>,
    /// The service's response body.
    pub details: Option<String>,
}

impl From<&Error> for ErrorReply {
    fn from(error: &Error) -> Self {
        let kind = error.kind();
        ErrorReply {
            code: kind.code().to_owned(),
            category: kind.category().to_owned(),
            terminating: kind.is_terminating(),
            message: error.message().to_owned(),
            target: error.target().map(str::to_owned),
            correlation_id: error.correlation_id().map(str::to_owned),
            http_status: error.http_status(),
            details: error.details().map(str::to_owned),
        }
    }
}

/// One result of `updateProductPolicies`: the updated item, or why it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkResult {
    /// The product id or offer type as given.
    pub id: String,
    /// Whether the update succeeded.
    pub ok: bool,
    /// The updated `ProductPolicy` or `ScopePolicy`, when it succeeded.
    pub item: Option<OutputItem>,
    /// Why it failed, when it failed.
    pub error: Option<ErrorReply>,
}

/// The data of `selectItems`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelectedItems {
    /// The picked items with their values now.
    pub items: Vec<OutputItem>,
    /// One `NotFound` error per name that matched nothing.
    pub errors: Vec<ErrorReply>,
}

/// One item of a plan: the update to send, and how `-WhatIf` and `-Confirm` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlannedUpdate {
    /// The item of `updateProductPolicies`, with its value: sent as it is once approved.
    pub update: RawTarget,
    /// What the change is about, as `ShouldProcess` names its target: the id, with the name
    /// and the value now where the plan knows them.
    pub target: String,
    /// What the change does, as `ShouldProcess` names its action.
    pub action: String,
}

/// The data of `planUpdate` and `planImport`: what would change, item by item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePlan {
    /// The updates, in order.
    pub items: Vec<PlannedUpdate>,
    /// One `NotFound` error per name that matched nothing.
    pub errors: Vec<ErrorReply>,
}

/// The data of `exportBaseline`: what was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BaselineExport {
    /// The file.
    pub path: String,
    /// The policy.
    pub policy_id: String,
    /// How many products the file holds.
    pub products: u32,
    /// How many offer types the file holds.
    pub offer_types: u32,
}

/// The data of `exportReport`: what the page shows, and the tenants that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyReport {
    /// The page.
    pub path: String,
    /// The policy.
    pub policy_id: String,
    /// The tenants (rows), failed ones included.
    pub tenants: u32,
    /// The tenants that could not be read (a row with the reason).
    pub failed_tenants: u32,
    /// The products (columns): every product any tenant lists.
    pub products: u32,
    /// The cells that differ from the baseline.
    pub drifted_cells: u32,
    /// The tenants with at least one such cell.
    pub drifted_tenants: u32,
    /// One error per tenant that could not be read, its target the tenant as given.
    pub errors: Vec<ErrorReply>,
}

/// One candidate of `complete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// What completes the word.
    pub value: String,
    /// What is shown beside it (a product's name).
    pub tooltip: String,
}
