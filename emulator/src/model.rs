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

/// A directory role that matters to the licensing service, with its Microsoft Entra role
/// template id (the value of a token's `wids` claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Global Administrator: reads and changes the policies.
    GlobalAdministrator,
    /// Billing Administrator: reads and changes the policies.
    BillingAdministrator,
    /// Global Reader: reads the policies only.
    GlobalReader,
}

impl Role {
    /// Every role, in the order they are listed.
    pub const ALL: [Role; 3] = [
        Self::GlobalAdministrator,
        Self::BillingAdministrator,
        Self::GlobalReader,
    ];

    /// The role's display name (`Global Administrator`).
    pub fn name(self) -> &'static str {
        match self {
            Self::GlobalAdministrator => "Global Administrator",
            Self::BillingAdministrator => "Billing Administrator",
            Self::GlobalReader => "Global Reader",
        }
    }

    /// The role's Entra template id, as tokens carry it in `wids`.
    pub fn template_id(self) -> &'static str {
        match self {
            Self::GlobalAdministrator => "62e90394-69f5-4237-9190-012177145e10",
            Self::BillingAdministrator => "b0f54661-2d74-4c50-afa3-1ec803f12efe",
            Self::GlobalReader => "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        }
    }

    /// The role with this template id (ignoring case), if it is one the service knows.
    pub fn from_template_id(id: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|role| role.template_id().eq_ignore_ascii_case(id))
    }

    /// Whether the role may change policies (not only read them).
    pub fn can_write(self) -> bool {
        !matches!(self, Self::GlobalReader)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A tenant (a Microsoft Entra directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// The tenant id.
    pub id: TenantId,
    /// The short name (`contoso`).
    pub name: String,
    /// The initial domain (`contoso.onmicrosoft.com`).
    pub domain: String,
}

/// A user of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user's object id, stable for the life of the database.
    pub oid: String,
    /// The user's tenant.
    pub tenant_id: TenantId,
    /// The user principal name (`admin@contoso.onmicrosoft.com`).
    pub upn: String,
    /// The display name.
    pub display_name: String,
    /// The user's directory roles that matter to the service, in [`Role::ALL`] order.
    pub roles: Vec<Role>,
}

/// An application registration that may ask for tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRegistration {
    /// The application (client) id.
    pub client_id: String,
    /// The display name.
    pub display_name: String,
    /// The object id of the application object; for the seeded apps, which every tenant may use,
    /// also the `oid` of their app-only tokens.
    pub object_id: String,
    /// The home tenant; `None` for the seeded apps, which every tenant may use.
    pub home_tenant_id: Option<TenantId>,
    /// Whether tenants other than the home tenant may consent to the app.
    pub multi_tenant: bool,
    /// Whether this is a public client (no credential: an app that runs on users' machines).
    pub public_client: bool,
    /// Set when the app is a managed identity.
    pub managed_identity: Option<ManagedIdentity>,
    /// The application permissions of the licensing service granted to the app.
    pub roles: Vec<AppPermission>,
}

impl AppRegistration {
    /// Whether this is a public client (no secret: an app that runs on users' machines).
    pub fn is_public(&self) -> bool {
        self.public_client
    }
}

/// An application permission of the licensing service ("M365 License Manager"), as app-only
/// tokens carry it in `roles`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AppPermission {
    /// `Policy.Read.AllowSelfServicePurchase`: reads.
    Read,
    /// `Policy.ReadWrite.AllowSelfServicePurchase`: reads and updates.
    ReadWrite,
}

impl AppPermission {
    /// Both permissions.
    pub const ALL: [AppPermission; 2] = [Self::Read, Self::ReadWrite];

    /// The permission's value, as the `roles` claim carries it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Read => "Policy.Read.AllowSelfServicePurchase",
            Self::ReadWrite => "Policy.ReadWrite.AllowSelfServicePurchase",
        }
    }

    /// The permission with this value (ignoring case).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|permission| permission.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether the permission allows updates (not only reads).
    pub fn can_write(self) -> bool {
        matches!(self, Self::ReadWrite)
    }
}

impl fmt::Display for AppPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of managed identity an app registration stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManagedIdentity {
    /// The system-assigned identity: at most one per data directory, used when a request names
    /// no identity.
    System,
    /// A user-assigned identity, chosen by its client id, object id or resource id.
    User,
}

impl ManagedIdentity {
    /// `system` or `user`, as stored and answered.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
        }
    }

    /// The kind named `name` (`system` or `user`, ignoring case).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::System, Self::User]
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

/// What a policy change was set on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// A product.
    Product,
    /// A third-party offer type.
    OfferType,
}

impl ItemKind {
    /// The kind as the audit log spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Product => "product",
            Self::OfferType => "offerType",
        }
    }
}

/// Who made a change, and under which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeContext {
    /// The signed-in user's UPN, or the display name of the app of an app-only token.
    pub actor_upn: String,
    /// The app id of the app of an app-only token; `None` for a user.
    pub actor_app_id: Option<String>,
    /// The request's `x-ms-correlation-id`.
    pub correlation_id: String,
}

/// One recorded policy change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The tenant the change was made in.
    pub tenant_id: TenantId,
    /// Who made it: the UPN, or the app's display name for an app-only change.
    pub actor_upn: String,
    /// The app id for an app-only change; `None` for a user's.
    pub actor_app_id: Option<String>,
    /// When, in UTC, as RFC 3339 (`2025-01-31T12:00:00Z`).
    pub changed_at: String,
    /// The policy id.
    pub policy_id: String,
    /// What kind of item was changed.
    pub item_kind: ItemKind,
    /// The item's current id (a product id or an offer type id).
    pub item_id: String,
    /// The value before the change.
    pub old_value: PolicyValue,
    /// The value after the change (may equal `old_value`: every accepted write is recorded).
    pub new_value: PolicyValue,
    /// The request's correlation id.
    pub correlation_id: String,
}

/// A product to add to a tenant's catalog (see [`crate::products`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    /// The product id.
    pub id: String,
    /// The display name.
    pub name: String,
    /// Whether the product offers a trial without a payment method.
    pub trial_without_payment_method: bool,
    /// The tenant's value of every policy for the product.
    pub policy_value: PolicyValue,
}

/// A partner user named by a delegated admin relationship's access assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignedUser {
    /// The user's object id.
    pub oid: String,
    /// The user's UPN.
    pub upn: String,
}

/// A delegated admin relationship (GDAP): a partner tenant's directory roles in a customer tenant,
/// held by the partner users its access assignment names, until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    /// The relationship id.
    pub id: String,
    /// Its name, as Partner Center shows it.
    pub display_name: String,
    /// The partner (the tenant whose users act).
    pub partner_tenant_id: TenantId,
    /// The customer (the tenant they act in).
    pub customer_tenant_id: TenantId,
    /// The roles it grants in the customer, in [`Role::ALL`] order.
    pub roles: Vec<Role>,
    /// The partner users who hold the roles, by UPN.
    pub users: Vec<AssignedUser>,
    /// When it was created (Unix ms).
    pub created_at_ms: i64,
    /// When it ends (Unix ms); from then on it grants nothing.
    pub expires_at_ms: i64,
}

impl Relationship {
    /// Whether it grants its roles at `now_ms`.
    pub fn is_active(&self, now_ms: i64) -> bool {
        now_ms < self.expires_at_ms
    }
}

/// What a user may do in a tenant, as the directory says now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantAccess {
    /// The tenant is the user's own: their directory roles there.
    Member(Vec<Role>),
    /// The user belongs to a partner of the tenant: the roles of the partner's active
    /// relationships that assign them (never empty).
    Delegated(Vec<Role>),
    /// The user has no access: another tenant's user with no active relationship assigning them.
    /// `expired` says a relationship assigning them exists but has ended.
    None {
        /// Whether only expired relationships assign the user.
        expired: bool,
    },
}
