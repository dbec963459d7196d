//! The tenants and their change history, as JSON.
//!
//! - `GET /admin/tenants`: `{"items":[{"id","name","domain"}]}`, by name.
//! - `GET /admin/tenants/{tenant}/audit[?top=N]` (`{tenant}`: an id, name or domain):
//!   `{"tenantId","items":[entry]}`, newest change first, at most `top` entries; an entry is
//!   `{"changedAt","actor","policyId","itemKind","itemId","oldValue","newValue","correlationId"}`
//!   (`itemKind`: `product` or `offerType`; `actor` the UPN, or the app's display name for an
//!   app-only change, which also has `actorAppId`). An unknown tenant is a 404.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::find_tenant;
use crate::error::ApiError;
use crate::model::{AuditEntry, Tenant};
use crate::routes::{ApiPath, ApiQuery};
use crate::AppState;

/// A list body: `{"items": [...]}`.
#[derive(Debug, Serialize)]
pub struct Items<T> {
    items: Vec<T>,
}

impl<T> Items<T> {
    /// The list body of `items`.
    pub fn new(items: Vec<T>) -> Self {
        Self { items }
    }
}

/// A tenant on the wire.
#[derive(Debug, Serialize)]
pub struct TenantBody {
    id: String,
    name: String,
    domain: String,
}

impl From<Tenant> for TenantBody {
    fn from(tenant: Tenant) -> Self {
        Self {
            id: tenant.id.to_string(),
            name: tenant.name,
            domain: tenant.domain,
        }
    }
}

/// An audit entry on the wire.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditItem {
    changed_at: String,
    actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor_app_id: Option<String>,
    policy_id: String,
    item_kind: &'static str,
    item_id: String,
    old_value: &'static str,
    new_value: &'static str,
    correlation_id: String,
}

impl From<AuditEntry> for AuditItem {
    fn from(entry: AuditEntry) -> Self {
        Self {
            changed_at: entry.changed_at,
            actor: entry.actor_upn,
            actor_app_id: entry.actor_app_id,
            policy_id: entry.policy_id,
            item_kind: entry.item_kind.as_str(),
            item_id: entry.item_id,
            old_value: entry.old_value.as_str(),
            new_value: entry.new_value.as_str(),
            correlation_id: entry.correlation_id,
        }
    }
}

/// A tenant's audit log.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditBody {
    tenant_id: String,
    items: Vec<AuditItem>,
}

/// The query of the audit log.
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    top: Option<u32>,
}

/// `GET /admin/tenants`.
pub async fn list(State(state): State<AppState>) -> Result<Json<Items<TenantBody>>, ApiError> {
    let tenants = state.store().tenants().await?;
    Ok(Json(Items {
        items: tenants.into_iter().map(TenantBody::from).collect(),
    }))
}

/// `GET /admin/tenants/{tenant}/audit`.
pub async fn audit(
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditBody>, ApiError> {
    let tenant = find_tenant(&state, &key).await?;
    let entries = state
        .store()
        .audit_log_newest(&tenant.id, query.top)
        .await?;
    Ok(Json(AuditBody {
        tenant_id: tenant.id.to_string(),
        items: entries.into_iter().map(AuditItem::from).collect(),
    }))
}
