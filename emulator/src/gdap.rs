//! Granular delegated admin privileges (GDAP), as Partner Center keeps them: a partner tenant's
//! relationship with a customer tenant grants directory roles there until it expires, to the
//! partner users its access assignment names. A partner user's refresh token then gets tokens for
//! the customer (see `routes::authority`), and the licensing API serves them while the
//! relationship lasts (see `middleware`). The `*-relationship` commands and `/admin/relationships`
//! use this module.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::clock;
use crate::model::{Relationship, Role, Tenant, TenantId};
use crate::store::{RelationshipChange, Store, StoreError};

/// How long a relationship lasts when no expiry is given, in days (Partner Center's longest).
pub const DEFAULT_DAYS: i64 = crate::seed::RELATIONSHIP_DAYS;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A new relationship, as `POST /admin/relationships` takes it (and `add-relationship` builds
/// it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewRelationship {
    /// The partner tenant: its id, domain or name.
    pub partner: String,
    /// The customer tenant: its id, domain or name.
    pub customer: String,
    /// The roles granted: names (`Billing Administrator`) or template ids; at least one.
    pub roles: Vec<String>,
    /// The partner users who hold them, by UPN; every user of the partner when empty.
    #[serde(default)]
    pub users: Vec<String>,
    /// When it ends: RFC 3339, or `+N` (N days from now, `+Nd` too); two years when absent.
    pub expires: Option<String>,
    /// The relationship id; a new GUID when absent.
    pub id: Option<String>,
    /// Its name; `<partner> - <customer>` when absent.
    pub display_name: Option<String>,
}

/// Changes to a relationship, as `PUT /admin/relationships/{id}` takes them; what is absent stays.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RelationshipUpdate {
    /// The roles granted (replacing the current ones; not empty).
    pub roles: Option<Vec<String>>,
    /// The partner users who hold them, by UPN (replacing the current ones).
    pub users: Option<Vec<String>>,
    /// When it ends: RFC 3339 (a past time expires it) or `+N` days from now.
    pub expires: Option<String>,
    /// Its name.
    pub display_name: Option<String>,
}

/// A relationship as the admin API and the commands show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelationshipView {
    /// The id.
    pub id: String,
    /// The name.
    pub display_name: String,
    /// The partner tenant's id.
    pub partner_tenant_id: String,
    /// The partner tenant's name.
    pub partner_tenant: String,
    /// The customer tenant's id.
    pub customer_tenant_id: String,
    /// The customer tenant's name.
    pub customer_tenant: String,
    /// The roles granted, by name.
    pub roles: Vec<&'static str>,
    /// The partner users who hold them, by UPN.
    pub users: Vec<String>,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it ends (RFC 3339).
    pub expires_at: String,
    /// `active` or `expired`.
    pub status: &'static str,
}

/// Why a relationship could not be listed, added or changed.
#[derive(Debug, thiserror::Error)]
pub enum GdapError {
    /// Something given makes no sense (a 400).
    #[error("{0}")]
    Invalid(String),
    /// No tenant has this id, domain or name (a 404).
    #[error("Tenant '{0}' was not found.")]
    UnknownTenant(String),
    /// No relationship has this id (a 404).
    #[error("Relationship '{0}' was not found.")]
    UnknownRelationship(String),
    /// A relationship with this id exists (a 400).
    #[error("A relationship with id '{0}' exists already.")]
    Exists(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The relationships, by customer name; only those of `partner` and `customer` (ids, domains or
/// names) when given.
pub async fn list(
    store: &Store,
    partner: Option<&str>,
    customer: Option<&str>,
) -> Result<Vec<RelationshipView>, GdapError> {
    let partner = match partner {
        Some(key) => Some(find_tenant(store, key).await?.id),
        None => None,
    };
    let customer = match customer {
        Some(key) => Some(find_tenant(store, key).await?.id),
        None => None,
    };
    let tenants = store.tenants().await?;
    let now_ms = clock::now_ms();
    store
        .relationships(partner.as_ref(), customer.as_ref())
        .await?
        .into_iter()
        .map(|relationship| view_of(&tenants, relationship, now_ms))
        .collect()
}

/// One relationship.
pub async fn view(store: &Store, id: &str) -> Result<RelationshipView, GdapError> {
    let relationship = store
        .relationship(id)
        .await?
        .ok_or_else(|| GdapError::UnknownRelationship(id.to_owned()))?;
    view_of(&store.tenants().await?, relationship, clock::now_ms())
}

/// Creates a relationship.
pub async fn add(store: &Store, new: &NewRelationship) -> Result<RelationshipView, GdapError> {
    let partner = find_tenant(store, &new.partner).await?;
    let customer = find_tenant(store, &new.customer).await?;
    if partner.id == customer.id {
        return Err(GdapError::Invalid(
            "A partner cannot have a relationship with its own tenant.".into(),
        ));
    }
    let roles = parse_roles(&new.roles)?;
    let users = if new.users.is_empty() {
        store.users(Some(&partner.id)).await?
    } else {
        partner_users(store, &partner, &new.users).await?
    };
    let now_ms = clock::now_ms();
    let expires_at_ms = match &new.expires {
        Some(text) => parse_expiry(text, now_ms)?,
        None => now_ms.saturating_add(DEFAULT_DAYS * DAY_MS),
    };
    let id = match &new.id {
        Some(id) if valid_id(id) => id.clone(),
        Some(id) => {
            return Err(GdapError::Invalid(format!(
                "The relationship id '{id}' must be 1 to 128 letters, digits and hyphens."
            )))
        }
        None => Uuid::new_v4().hyphenated().to_string(),
    };
    let display_name = match &new.display_name {
        Some(name) => checked_name(name)?,
        None => format!("{} - {}", partner.name, customer.name),
    };
    let relationship = Relationship {
        id: id.clone(),
        display_name,
        partner_tenant_id: partner.id.clone(),
        customer_tenant_id: customer.id.clone(),
        roles,
        users: users
            .into_iter()
            .map(|user| crate::model::AssignedUser {
                oid: user.oid,
                upn: user.upn,
            })
            .collect(),
        created_at_ms: now_ms,
        expires_at_ms,
    };
    if !store.insert_relationship(relationship).await? {
        return Err(GdapError::Exists(id));
    }
    tracing::info!(id = %id, partner = %partner.id, customer = %customer.id, "relationship added");
    view(store, &id).await
}

/// Changes a relationship.
pub async fn change(
    store: &Store,
    id: &str,
    update: &RelationshipUpdate,
) -> Result<RelationshipView, GdapError> {
    let current = store
        .relationship(id)
        .await?
        .ok_or_else(|| GdapError::UnknownRelationship(id.to_owned()))?;
    let roles = match &update.roles {
        Some(roles) => Some(parse_roles(roles)?),
        None => None,
    };
    let user_oids = match &update.users {
        Some(upns) => {
            let partner = find_tenant(store, current.partner_tenant_id.as_str()).await?;
            let users = partner_users(store, &partner, upns).await?;
            Some(users.into_iter().map(|user| user.oid).collect())
        }
        None => None,
    };
    let expires_at_ms = match &update.expires {
        Some(text) => Some(parse_expiry(text, clock::now_ms())?),
        None => None,
    };
    let display_name = match &update.display_name {
        Some(name) => Some(checked_name(name)?),
        None => None,
    };
    let change = RelationshipChange {
        roles,
        user_oids,
        expires_at_ms,
        display_name,
    };
    update_and_view(store, &current.id, change).await
}

/// Ends a relationship now (one that has ended already keeps its end).
pub async fn expire(store: &Store, id: &str) -> Result<RelationshipView, GdapError> {
    let current = store
        .relationship(id)
        .await?
        .ok_or_else(|| GdapError::UnknownRelationship(id.to_owned()))?;
    let change = RelationshipChange {
        expires_at_ms: Some(current.expires_at_ms.min(clock::now_ms())),
        ..RelationshipChange::default()
    };
    tracing::info!(id = %current.id, "relationship expired");
    update_and_view(store, &current.id, change).await
}

/// Deletes a relationship (Partner Center's "terminate"); its users lose access at once.
pub async fn remove(store: &Store, id: &str) -> Result<(), GdapError> {
    if store.delete_relationship(id).await? {
        tracing::info!(id = %id, "relationship removed");
        Ok(())
    } else {
        Err(GdapError::UnknownRelationship(id.to_owned()))
    }
}

/// Parses an expiry: RFC 3339, or `+N`/`+Nd` days from `now_ms` (Unix ms).
pub fn parse_expiry(text: &str, now_ms: i64) -> Result<i64, GdapError> {
    let text = text.trim();
    if let Some(days) = text.strip_prefix('+') {
        let days = days.strip_suffix(['d', 'D']).unwrap_or(days);
        return days
            .parse::<i64>()
            .ok()
            .filter(|days| (0..=36_500).contains(days))
            .map(|days| now_ms.saturating_add(days * DAY_MS))
            .ok_or_else(|| bad_expiry(text));
    }
    let time = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| bad_expiry(text))?;
    i64::try_from(time.unix_timestamp_nanos() / 1_000_000).map_err(|_| bad_expiry(text))
}

fn bad_expiry(text: &str) -> GdapError {
    GdapError::Invalid(format!(
        "'{text}' is not an expiry: use an RFC 3339 time (2027-01-31T12:00:00Z) or +N for N \
         days from now."
    ))
}

/// The roles named (by name, ignoring case and spaces, or by template id), in [`Role::ALL`]
/// order; at least one.
fn parse_roles(names: &[String]) -> Result<Vec<Role>, GdapError> {
    let mut roles = Vec::new();
    for name in names {
        let squeezed: String = name.chars().filter(|c| !c.is_whitespace()).collect();
        let role = Role::ALL
            .into_iter()
            .find(|role| {
                role.name().replace(' ', "").eq_ignore_ascii_case(&squeezed)
                    || role.template_id().eq_ignore_ascii_case(&squeezed)
            })
            .ok_or_else(|| {
                GdapError::Invalid(format!(
                    "'{name}' is not a role the emulator knows: use {}.",
                    Role::ALL.map(Role::name).join(", ")
                ))
            })?;
        roles.push(role);
    }
    roles.sort_unstable();
    roles.dedup();
    if roles.is_empty() {
        return Err(GdapError::Invalid(
            "A relationship grants at least one role.".into(),
        ));
    }
    Ok(roles)
}

/// The partner's users with these UPNs; a UPN of another tenant's user is refused.
async fn partner_users(
    store: &Store,
    partner: &Tenant,
    upns: &[String],
) -> Result<Vec<crate::model::User>, GdapError> {
    let mut users = Vec::new();
    for upn in upns {
        let user = store
            .user_by_upn(upn.trim())
            .await?
            .filter(|user| user.tenant_id == partner.id)
            .ok_or_else(|| {
                GdapError::Invalid(format!(
                    "'{upn}' is not a user of the partner tenant '{}'.",
                    partner.name
                ))
            })?;
        users.push(user);
    }
    Ok(users)
}

async fn update_and_view(
    store: &Store,
    id: &str,
    change: RelationshipChange,
) -> Result<RelationshipView, GdapError> {
    let updated = store
        .update_relationship(id, change)
        .await?
        .ok_or_else(|| GdapError::UnknownRelationship(id.to_owned()))?;
    view_of(&store.tenants().await?, updated, clock::now_ms())
}

fn view_of(
    tenants: &[Tenant],
    relationship: Relationship,
    now_ms: i64,
) -> Result<RelationshipView, GdapError> {
    let name = |id: &TenantId| {
        tenants
            .iter()
            .find(|tenant| tenant.id == *id)
            .map(|tenant| tenant.name.clone())
            .unwrap_or_default()
    };
    let active = relationship.is_active(now_ms);
    Ok(RelationshipView {
        partner_tenant: name(&relationship.partner_tenant_id),
        customer_tenant: name(&relationship.customer_tenant_id),
        roles: relationship.roles.iter().map(|role| role.name()).collect(),
        users: relationship
            .users
            .into_iter()
            .map(|user| user.upn)
            .collect(),
        created_at: rfc3339_ms(relationship.created_at_ms)?,
        expires_at: rfc3339_ms(relationship.expires_at_ms)?,
        status: if active { "active" } else { "expired" },
        id: relationship.id,
        display_name: relationship.display_name,
        partner_tenant_id: relationship.partner_tenant_id.to_string(),
        customer_tenant_id: relationship.customer_tenant_id.to_string(),
    })
}

fn rfc3339_ms(ms: i64) -> Result<String, GdapError> {
    clock::rfc3339(ms.div_euclid(1000)).map_err(|error| GdapError::Store(error.into()))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn checked_name(name: &str) -> Result<String, GdapError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 256 || name.chars().any(char::is_control) {
        return Err(GdapError::Invalid(
            "The display name must be 1 to 256 characters without control characters.".into(),
        ));
    }
    Ok(name.to_owned())
}

async fn find_tenant(store: &Store, key: &str) -> Result<Tenant, GdapError> {
    store
        .find_tenant(key)
        .await?
        .ok_or_else(|| GdapError::UnknownTenant(key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_rfc3339_or_days_from_now() {
        let now = 1_738_324_800_000;
        assert_eq!(parse_expiry("+2", now).unwrap(), now + 2 * DAY_MS);
        assert_eq!(parse_expiry("+30d", now).unwrap(), now + 30 * DAY_MS);
        assert_eq!(
            parse_expiry("2025-01-31T12:00:01Z", now).unwrap(),
            now + 1000
        );
        assert!(parse_expiry("tomorrow", now).is_err());
        assert!(parse_expiry("+-1", now).is_err());
    }

    #[test]
    fn roles_are_named_loosely_and_at_least_one() {
        let roles = parse_roles(&["billing administrator".into(), "GlobalReader".into()]).unwrap();
        assert_eq!(roles, [Role::BillingAdministrator, Role::GlobalReader]);
        assert!(parse_roles(&[]).is_err());
        assert!(parse_roles(&["Helpdesk Agent".into()]).is_err());
    }
}
