//! Delegated admin relationships (GDAP): a partner tenant's roles in a customer tenant, the
//! partner users assigned them, and what a user may do in a tenant because of them.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::{Store, StoreError};
use crate::model::{AssignedUser, Relationship, Role, TenantAccess, TenantId};

/// The columns [`relationship_row`] reads, with the roles and the users' `oid upn` pairs
/// separated by spaces and commas.
const RELATIONSHIP_COLUMNS: &str = "SELECT r.id, r.display_name, r.partner_tenant_id,
        r.customer_tenant_id, r.created_at_ms, r.expires_at_ms,
        (SELECT group_concat(role_template_id, ' ') FROM delegated_admin_roles
          WHERE relationship_id = r.id),
        (SELECT group_concat(u.oid || ' ' || u.upn, ',') FROM delegated_admin_access AS a
          JOIN users AS u ON u.oid = a.user_oid WHERE a.relationship_id = r.id)
     FROM delegated_admin_relationships AS r";

/// The changes to a relationship; `None` keeps what it has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelationshipChange {
    /// The roles it grants (not empty).
    pub roles: Option<Vec<Role>>,
    /// The object ids of the partner users assigned (partner users, checked by the caller).
    pub user_oids: Option<Vec<String>>,
    /// When it ends (Unix ms).
    pub expires_at_ms: Option<i64>,
    /// Its name.
    pub display_name: Option<String>,
}

impl Store {
    /// The relationships, by customer tenant name then partner then id; only those of `partner`
    /// and `customer` when given.
    pub async fn relationships(
        &self,
        partner: Option<&TenantId>,
        customer: Option<&TenantId>,
    ) -> Result<Vec<Relationship>, StoreError> {
        let (partner, customer) = (partner.cloned(), customer.cloned());
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "{RELATIONSHIP_COLUMNS}
                 JOIN tenants AS c ON c.id = r.customer_tenant_id
                 WHERE (?1 IS NULL OR r.partner_tenant_id = ?1)
                   AND (?2 IS NULL OR r.customer_tenant_id = ?2)
                 ORDER BY c.name, r.partner_tenant_id, r.id"
            ))?;
            let rows = stmt.query_map(
                params![
                    partner.as_ref().map(TenantId::as_str),
                    customer.as_ref().map(TenantId::as_str)
                ],
                relationship_row,
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// The relationship with this id (ignoring case).
    pub async fn relationship(&self, id: &str) -> Result<Option<Relationship>, StoreError> {
        let id = id.to_owned();
        self.with_conn(move |conn| select_relationship(conn, &id))
            .await
    }

    /// Stores a new relationship; `false`, storing nothing, when its id is taken.
    pub async fn insert_relationship(
        &self,
        relationship: Relationship,
    ) -> Result<bool, StoreError> {
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if select_relationship(&tx, &relationship.id)?.is_some() {
                return Ok(false);
            }
            let oids: Vec<&str> = relationship.users.iter().map(|u| u.oid.as_str()).collect();
            insert_relationship(
                &tx,
                &relationship.id,
                &relationship.display_name,
                (
                    &relationship.partner_tenant_id,
                    &relationship.customer_tenant_id,
                ),
                &relationship.roles,
                &oids,
                (relationship.created_at_ms, relationship.expires_at_ms),
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    /// Applies `change` to the relationship `id`; the relationship after it, or `None` when
    /// there is no such relationship.
    pub async fn update_relationship(
        &self,
        id: &str,
        change: RelationshipChange,
    ) -> Result<Option<Relationship>, StoreError> {
        let id = id.to_owned();
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some(current) = select_relationship(&tx, &id)? else {
                return Ok(None);
            };
            if let Some(expires_at_ms) = change.expires_at_ms {
                tx.execute(
                    "UPDATE delegated_admin_relationships SET expires_at_ms = ?2 WHERE id = ?1",
                    params![current.id, expires_at_ms],
                )?;
            }
            if let Some(name) = &change.display_name {
                tx.execute(
                    "UPDATE delegated_admin_relationships SET display_name = ?2 WHERE id = ?1",
                    params![current.id, name],
                )?;
            }
            if let Some(roles) = &change.roles {
                tx.execute(
                    "DELETE FROM delegated_admin_roles WHERE relationship_id = ?1",
                    params![current.id],
                )?;
                insert_roles(&tx, &current.id, roles)?;
            }
            if let Some(oids) = &change.user_oids {
                tx.execute(
                    "DELETE FROM delegated_admin_access WHERE relationship_id = ?1",
                    params![current.id],
                )?;
                let oids: Vec<&str> = oids.iter().map(String::as_str).collect();
                insert_users(&tx, &current.id, &oids)?;
            }
            let updated = select_relationship(&tx, &current.id)?;
            tx.commit()?;
            Ok(updated)
        })
        .await
    }

    /// Deletes the relationship `id`; whether there was one.
    pub async fn delete_relationship(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.with_conn(move |conn| {
            let deleted = conn.execute(
                "DELETE FROM delegated_admin_relationships WHERE id = ?1",
                params![id],
            )?;
            Ok(deleted > 0)
        })
        .await
    }

    /// What the user `oid` may do in `tenant` at `now_ms`: `None` when there is no such user.
    pub async fn tenant_access(
        &self,
        oid: &str,
        tenant: &TenantId,
        now_ms: i64,
    ) -> Result<Option<TenantAccess>, StoreError> {
        let (oid, tenant) = (oid.to_owned(), tenant.clone());
        self.with_conn(move |conn| tenant_access(conn, &oid, &tenant, now_ms))
            .await
    }
}

/// See [`Store::tenant_access`].
fn tenant_access(
    conn: &Connection,
    oid: &str,
    tenant: &TenantId,
    now_ms: i64,
) -> Result<Option<TenantAccess>, StoreError> {
    let home: Option<String> = conn
        .prepare_cached("SELECT tenant_id FROM users WHERE oid = ?1")?
        .query_row(params![oid], |row| row.get(0))
        .optional()?;
    let Some(home) = home else {
        return Ok(None);
    };
    if home.eq_ignore_ascii_case(tenant.as_str()) {
        let mut stmt =
            conn.prepare_cached("SELECT role_template_id FROM user_roles WHERE user_oid = ?1")?;
        let ids = stmt.query_map(params![oid], |row| row.get::<_, String>(0))?;
        return Ok(Some(TenantAccess::Member(roles_of(ids)?)));
    }
    // Only relationships of the user's own tenant count: an assignment cannot outlive a move.
    let mut stmt = conn.prepare_cached(
        "SELECT rr.role_template_id, r.expires_at_ms > ?3
         FROM delegated_admin_relationships AS r
         JOIN delegated_admin_access AS a ON a.relationship_id = r.id
         JOIN delegated_admin_roles AS rr ON rr.relationship_id = r.id
         WHERE a.user_oid = ?1 AND r.customer_tenant_id = ?2 AND r.partner_tenant_id = ?4",
    )?;
    let mut any = false;
    let mut active = Vec::new();
    let rows = stmt.query_map(params![oid, tenant.as_str(), now_ms, home], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, bool>(1)?))
    })?;
    for row in rows {
        let (role, live) = row?;
        any = true;
        if live {
            active.push(role);
        }
    }
    let roles = roles_of(active.into_iter().map(Ok))?;
    Ok(Some(if roles.is_empty() {
        TenantAccess::None { expired: any }
    } else {
        TenantAccess::Delegated(roles)
    }))
}

/// The known roles among template ids, in [`Role::ALL`] order, once each.
fn roles_of<I>(ids: I) -> Result<Vec<Role>, StoreError>
where
    I: Iterator<Item = rusqlite::Result<String>>,
{
    let mut roles = Vec::new();
    for id in ids {
        if let Some(role) = Role::from_template_id(&id?) {
            roles.push(role);
        }
    }
    roles.sort_unstable();
    roles.dedup();
    Ok(roles)
}

/// Inserts a relationship with its roles and users (all known to exist); used by the seed too.
pub(super) fn insert_relationship(
    conn: &Connection,
    id: &str,
    display_name: &str,
    (partner, customer): (&TenantId, &TenantId),
    roles: &[Role],
    user_oids: &[&str],
    (created_at_ms, expires_at_ms): (i64, i64),
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO delegated_admin_relationships (id, display_name, partner_tenant_id,
             customer_tenant_id, created_at_ms, expires_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        display_name,
        partner.as_str(),
        customer.as_str(),
        created_at_ms,
        expires_at_ms
    ])?;
    insert_roles(conn, id, roles)?;
    insert_users(conn, id, user_oids)
}

fn insert_roles(conn: &Connection, id: &str, roles: &[Role]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO delegated_admin_roles (relationship_id, role_template_id)
         VALUES (?1, ?2)",
    )?;
    for role in roles {
        stmt.execute(params![id, role.template_id()])?;
    }
    Ok(())
}

fn insert_users(conn: &Connection, id: &str, oids: &[&str]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO delegated_admin_access (relationship_id, user_oid) VALUES (?1, ?2)",
    )?;
    for oid in oids {
        stmt.execute(params![id, oid])?;
    }
    Ok(())
}

fn select_relationship(conn: &Connection, id: &str) -> Result<Option<Relationship>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("{RELATIONSHIP_COLUMNS} WHERE r.id = ?1"))?
        .query_row(params![id], relationship_row)
        .optional()?)
}

fn relationship_row(row: &Row<'_>) -> rusqlite::Result<Relationship> {
    let roles: Option<String> = row.get(6)?;
    let mut roles: Vec<Role> = roles
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(Role::from_template_id)
        .collect();
    roles.sort_unstable();
    let users: Option<String> = row.get(7)?;
    let mut users: Vec<AssignedUser> = users
        .unwrap_or_default()
        .split(',')
        .filter_map(|pair| pair.split_once(' '))
        .map(|(oid, upn)| AssignedUser {
            oid: oid.to_owned(),
            upn: upn.to_owned(),
        })
        .collect();
    users.sort_by_key(|user| user.upn.to_lowercase());
    Ok(Relationship {
        id: row.get(0)?,
        display_name: row.get(1)?,
        partner_tenant_id: TenantId::new(row.get::<_, String>(2)?),
        customer_tenant_id: TenantId::new(row.get::<_, String>(3)?),
        created_at_ms: row.get(4)?,
        expires_at_ms: row.get(5)?,
        roles,
        users,
    })
}
