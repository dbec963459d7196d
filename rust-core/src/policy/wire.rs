//! The service's JSON and the objects the cmdlets output. These are the only definitions of the
//! wire types: the C# model classes are checked against what this module produces.

use serde::{Deserialize, Serialize};

/// A policy as the service sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePolicy {
    /// The policy id, such as `AllowSelfServicePurchase`.
    pub id: String,
    /// What the policy controls.
    pub description: Option<String>,
    /// The value items take unless set.
    pub default_value: Option<String>,
}

/// A product or offer-type item as the service sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceItem {
    /// The policy id.
    pub policy_id: String,
    /// `Enabled`, `Disabled` or `OnlyTrialsWithoutPaymentMethod`.
    pub policy_value: Option<String>,
    /// The product's name (product scope).
    pub product_name: Option<String>,
    /// The product's id (product scope).
    pub product_id: Option<String>,
    /// The scope (other scopes), such as `OfferType`.
    pub scope: Option<String>,
    /// The item's id within its scope, such as `SaaS`.
    pub scope_id: Option<String>,
    /// The item's name within its scope.
    pub scope_value: Option<String>,
}

/// The service's list envelope.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceList<T> {
    /// The items.
    pub items: Vec<T>,
}

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

impl From<ServicePolicy> for OutputItem {
    fn from(policy: ServicePolicy) -> Self {
        OutputItem::Policy {
            policy_id: policy.id,
            description: policy.description,
            default_value: policy.default_value,
        }
    }
}

impl From<ServiceItem> for OutputItem {
    fn from(item: ServiceItem) -> Self {
        if item.product_id.is_some() {
            OutputItem::ProductPolicy {
                policy_value: item.policy_value,
                product_id: item.product_id,
                policy_id: item.policy_id,
                product_name: item.product_name,
            }
        } else {
            OutputItem::ScopePolicy {
                policy_id: item.policy_id,
                policy_value: item.policy_value,
                scope_id: item.scope_id,
                scope_value: item.scope_value,
                scope: item.scope,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_item_becomes_product_policy_with_contract_names_in_order() {
        let item: ServiceItem = serde_json::from_str(
            r#"{"policyId":"P","policyValue":"Enabled","productName":"Power BI Pro","productId":"CFQ7TTC0H9MP"}"#,
        )
        .unwrap();
        let json = serde_json::to_string(&OutputItem::from(item)).unwrap();
        assert_eq!(
            json,
            r#"{"Kind":"ProductPolicy","PolicyValue":"Enabled","ProductId":"CFQ7TTC0H9MP","PolicyId":"P","ProductName":"Power BI Pro"}"#
        );
    }

    #[test]
    fn offer_type_item_becomes_scope_policy() {
        let item: ServiceItem = serde_json::from_str(
            r#"{"policyId":"P","policyValue":"Disabled","scope":"OfferType","scopeId":"SaaS","scopeValue":"Software as a Service","extra":1}"#,
        )
        .unwrap();
        let json = serde_json::to_string(&OutputItem::from(item)).unwrap();
        assert_eq!(
            json,
            r#"{"Kind":"ScopePolicy","PolicyId":"P","PolicyValue":"Disabled","ScopeId":"SaaS","ScopeValue":"Software as a Service","Scope":"OfferType"}"#
        );
    }

    #[test]
    fn policy_keeps_id_description_and_default() {
        let policy: ServicePolicy = serde_json::from_str(
            r#"{"id":"AllowSelfServicePurchase","description":"d","defaultValue":"Enabled"}"#,
        )
        .unwrap();
        let json = serde_json::to_string(&OutputItem::from(policy)).unwrap();
        assert_eq!(
            json,
            r#"{"Kind":"Policy","PolicyId":"AllowSelfServicePurchase","Description":"d","DefaultValue":"Enabled"}"#
        );
    }
}
