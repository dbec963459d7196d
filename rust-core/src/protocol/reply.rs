//! Replies: the `data` of a successful envelope, for each request.

use serde::Serialize;

/// An object a cmdlet outputs, with the contract's property names. `Kind` tells the shim which
/// model class to build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "Kind")]
pub enum OutputItem {
    /// `MSCommerce.Policy`.
    #[serde(rename_all = "PascalCase")]
    Policy {
        /// The policy id.
        policy_id: String,
        /// What the policy controls.
        description: Option<String>,
        /// The value items take unless set.
        default_value: Option<String>,
    },
    /// `MSCommerce.ProductPolicy`, fields in the order the original prints them.
    #[serde(rename_all = "PascalCase")]
    ProductPolicy {
        /// The product's value.
        policy_value: Option<String>,
        /// The product's id.
        product_id: Option<String>,
        /// The policy id.
        policy_id: String,
        /// The product's name.
        product_name: Option<String>,
    },
    /// `MSCommerce.ScopePolicy`: an offer type or another non-product scope.
    #[serde(rename_all = "PascalCase")]
    ScopePolicy {
        /// The policy id.
        policy_id: String,
        /// The item's value.
        policy_value: Option<String>,
        /// The item's id within its scope.
        scope_id: Option<String>,
        /// The item's name within its scope.
        scope_value: Option<String>,
        /// The scope.
        scope: Option<String>,
    },
    /// `MSCommerce.PolicyDrift`: one item that differs from a baseline.
    #[serde(rename_all = "PascalCase")]
    PolicyDrift {
        /// The policy id.
        policy_id: String,
        /// `Product` or `OfferType`.
        scope: String,
        /// The product id or offer type.
        id: String,
        /// The product's or offer type's name.
        name: Option<String>,
        /// `Changed`, `Added` or `Removed`.
        change: String,
        /// The baseline's value (none for an added item).
        baseline_value: Option<String>,
        /// The value now (none for a removed item).
        current_value: Option<String>,
    },
}
