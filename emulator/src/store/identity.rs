//! The directory: tenants, their domains and users, and the signing key (app registrations are
//! in `apps`).

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::{Store, StoreError};
use crate::model::{Role, Tenant, TenantId, User};

/// The columns of a tenant, with its first domain.
const TENANT_COLUMNS: &str = "SELECT t.id, t.name,
        (SELECT domain FROM tenant_domains AS d WHERE d.tenant_id = t.id ORDER BY d.rowid LIMIT 1)
     FROM tenants AS t";

/// The columns of a user, with the user's role template ids separated by spaces.
const USER_COLUMNS: &str = "SELECT u.oid, u.tenant_id, u.upn, u.display_name,
        (SELECT group_concat(role_template_id, ' ') FROM user_roles WHERE user_oid = u.oid)
     FROM users AS u JOIN tenants AS t ON t.id = u.tenant_id";

impl Store {
    /// Every tenant, by name.
    pub async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare_cached(&format!("{TENANT_COLUMNS} ORDER BY t.name"))?;
            let rows = stmt.query_map([], tenant_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// The tenant whose id, domain or name is `key` (ignoring case).
    pub async fn find_tenant(&self, key: &str) -> Result<Option<Tenant>, StoreError> {
        let key = key.to_owned();
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "{TENANT_COLUMNS}
                 WHERE t.id = ?1 OR t.name = ?1
                    OR t.id = (SELECT tenant_id FROM tenant_domains WHERE domain = ?1)"
            ))?;
            Ok(stmt.query_row(params![key], tenant_row).optional()?)
        })
        .await
    }

    /// The users of one tenant, or of every tenant; by tenant name, then UPN.
    pub async fn users(&self, tenant: Option<&TenantId>) -> Result<Vec<User>, StoreError> {
        let tenant = tenant.cloned();
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "{USER_COLUMNS} WHERE ?1 IS NULL OR u.tenant_id = ?1 ORDER BY t.name, u.upn"
            ))?;
            let rows = stmt.query_map(params![tenant.as_ref().map(TenantId::as_str)], user_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// The user with this UPN (ignoring case).
    pub async fn user_by_upn(&self, upn: &str) -> Result<Option<User>, StoreError> {
        let upn = upn.to_owned();
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(&format!("{USER_COLUMNS} WHERE u.upn = ?1"))?;
            Ok(stmt.query_row(params![upn], user_row).optional()?)
        })
        .await
    }

    /// The user with this object id.
    pub async fn user_by_oid(&self, oid: &str) -> Result<Option<User>, StoreError> {
        let oid = oid.to_owned();
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(&format!("{USER_COLUMNS} WHERE u.oid = ?1"))?;
            Ok(stmt.query_row(params![oid], user_row).optional()?)
        })
        .await
    }

    /// The signing key (its kid and PKCS#1 DER), when one was stored.
    pub async fn signing_key(&self) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        self.with_conn(|conn| newest_signing_key(conn)).await
    }

    /// Stores `der` under `kid` as the signing key unless there already is one, and returns the
    /// key that is stored: two processes that each generate a key end up sharing the first one.
    pub async fn insert_signing_key_if_absent(
        &self,
        kid: &str,
        der: &[u8],
        now_ms: i64,
    ) -> Result<(String, Vec<u8>), StoreError> {
        let (kid, der) = (kid.to_owned(), der.to_vec());
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(existing) = newest_signing_key(&tx)? {
                return Ok(existing);
            }
            tx.execute(
                "INSERT INTO signing_keys (kid, private_key_der, created_at_ms) VALUES (?1, ?2, ?3)",
                params![kid, der, now_ms],
            )?;
            tx.commit()?;
            Ok((kid, der))
        })
        .await
    }
}

fn newest_signing_key(conn: &Connection) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT kid, private_key_der FROM signing_keys
         ORDER BY created_at_ms DESC, rowid DESC LIMIT 1",
    )?;
    Ok(stmt
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}

fn tenant_row(row: &Row<'_>) -> rusqlite::Result<Tenant> {
    let id: String = row.get(0)?;
    let name: String = row.get(1)?;
    let domain: Option<String> = row.get(2)?;
    Ok(Tenant {
        domain: domain.unwrap_or_else(|| format!("{name}.onmicrosoft.com")),
        id: TenantId::new(id),
        name,
    })
}

fn user_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let roles: Option<String> = row.get(4)?;
    let mut roles: Vec<Role> = roles
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(Role::from_template_id)
        .collect();
    roles.sort_unstable();
    Ok(User {
        oid: row.get(0)?,
        tenant_id: TenantId::new(row.get::<_, String>(1)?),
        upn: row.get(2)?,
        display_name: row.get(3)?,
        roles,
    })
}
