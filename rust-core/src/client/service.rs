//! The licensing service's JSON, and how its items become the objects the cmdlets output.

use serde::Deserialize;

use crate::policy::baseline::Current;
use crate::policy::Scope;
use crate::protocol::{OutputItem, Policy, ProductPolicy, ScopePolicy};

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

impl ServiceItem {
    /// The item as a baseline compares it, if it has an id in `scope`.
    pub(crate) fn current(&self, scope: Scope) -> Option<Current> {
        let (id, name) = match scope {
            Scope::Product => (self.product_id.clone()?, self.product_name.clone()),
            Scope::OfferType => (self.scope_id.clone()?, self.scope_value.clone()),
        };
        Some(Current {
            scope,
            id,
            name,
            value: self.policy_value.clone(),
        })
    }
}

impl From<ServicePolicy> for OutputItem {
    fn from(policy: ServicePolicy) -> Self {
        OutputItem::Policy(Policy {
            policy_id: policy.id,
            description: policy.description,
            default_value: policy.default_value,
            tenant_id: None,
        })
    }
}

impl From<ServiceItem> for OutputItem {
    fn from(item: ServiceItem) -> Self {
        if item.product_id.is_some() {
            OutputItem::ProductPolicy(ProductPolicy {
                policy_value: item.policy_value,
                product_id: item.product_id,
                policy_id: item.policy_id,
                product_name: item.product_name,
                tenant_id: None,
            })
        } else {
            OutputItem::ScopePolicy(ScopePolicy {
                policy_id: item.policy_id,
                policy_value: item.policy_value,
                scope_id: item.scope_id,
                scope_value: item.scope_value,
                scope: item.scope,
                tenant_id: None,
            })
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
            r#"{"kind":"ProductPolicy","policyValue":"Enabled","productId":"CFQ7TTC0H9MP","policyId":"P","productName":"Power BI Pro","tenantId":null}"#
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
            r#"{"kind":"ScopePolicy","policyId":"P","policyValue":"Disabled","scopeId":"SaaS","scopeValue":"Software as a Service","scope":"OfferType","tenantId":null}"#
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
            r#"{"kind":"Policy","policyId":"AllowSelfServicePurchase","description":"d","defaultValue":"Enabled","tenantId":null}"#
        );
    }
}
