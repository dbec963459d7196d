//! The emulator's domain types: what the store holds and the routes serve.

use std::fmt;
use std::str::FromStr;

/// The id of a tenant (a Microsoft Entra directory), a GUID in its text form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantId(String);

impl TenantId {
    /// Wraps a tenant id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A value of a policy for a product or an offer type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyValue {
    /// Users can make self-service purchases and acquire trials.
    Enabled,
    /// Users can neither make self-service purchases nor acquire trials.
    Disabled,
    /// Users can only acquire trials that need no payment method (products that offer one).
    OnlyTrialsWithoutPaymentMethod,
}

impl PolicyValue {
    /// The value as the service spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "Enabled",
            Self::Disabled => "Disabled",
            Self::OnlyTrialsWithoutPaymentMethod => "OnlyTrialsWithoutPaymentMethod",
        }
    }
}

impl fmt::Display for PolicyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text is not one of the [`PolicyValue`]s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a policy value")]
pub struct UnknownPolicyValue(pub String);

impl FromStr for PolicyValue {
    type Err = UnknownPolicyValue;

    /// Parses a value, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::Enabled,
            Self::Disabled,
            Self::OnlyTrialsWithoutPaymentMethod,
        ]
        .into_iter()
        .find(|value| value.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| UnknownPolicyValue(s.to_owned()))
    }
}

/// A policy as a tenant sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The policy id, as the catalog spells it (`AllowSelfServicePurchase`).
    pub id: String,
    /// What the policy controls.
    pub description: String,
    /// The tenant's default value of the policy.
    pub default_value: PolicyValue,
}

/// A tenant's setting of a policy for one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPolicy {
    /// The policy id, as the catalog spells it.
    pub policy_id: String,
    /// The tenant's value for the product.
    pub policy_value: PolicyValue,
    /// The product's display name.
    pub product_name: String,
    /// The product's current id (never an old, replaced id).
    pub product_id: String,
    /// Whether the product offers a trial without a payment method.
    pub trial_without_payment_method: bool,
}

/// A tenant's setting of a policy for one third-party offer type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferTypePolicy {
    /// The policy id, as the catalog spells it.
    pub policy_id: String,
    /// The tenant's value for the offer type.
    pub policy_value: PolicyValue,
    /// The offer type id, as the catalog spells it (`SaaS`).
    pub offer_type_id: String,
    /// The offer type's display name (`Software as a Service`).
    pub offer_type_name: String,
}
