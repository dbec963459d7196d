//! All of the emulator's SQL: opening, migrating and seeding the SQLite database, and the
//! queries the routes use.
//!
//! One connection behind a mutex serves the process; every query runs on tokio's blocking pool.
//! The database uses WAL with `synchronous=FULL`, so a change is on disk once its call returns
//! and survives the process being killed.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use crate::model::{OfferTypePolicy, Policy, PolicyValue, ProductPolicy, TenantId};
use crate::seed::{Seed, SEED};

/// The name of the database file inside the data directory.
pub const DATABASE_FILE: &str = "emulator.db";

/// The migrations, in order; migration `n` (from 1) brings the schema to version `n`, which is
/// kept in SQLite's `user_version`.
const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_init.sql")];

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// SQLite reported an error.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer emulator, with migrations this one does not know.
    #[error(
        "the database has schema version {found}; this emulator knows versions up to {supported}"
    )]
    NewerSchema {
        /// The database's schema version.
        found: i64,
        /// The newest version this emulator knows.
        supported: usize,
    },
    /// The database holds something the schema should have prevented.
    #[error("the database is corrupt: {0}")]
    Corrupt(String),
    /// A blocking database task panicked or was cancelled.
    #[error("a database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The emulator's persistent state. Cloning is cheap: clones share one connection.
#[derive(Debug, Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl Store {
    /// Opens the database `emulator.db` in `data_dir`, creating the directory and the database
    /// when missing, applies pending migrations and seeds an empty database.
    ///
    /// This blocks; call it before serving or from a blocking task.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        fs::create_dir_all(data_dir).map_err(|source| StoreError::CreateDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(DATABASE_FILE);
        let mut conn = Connection::open(&path)?;
        configure(&conn)?;
        migrate(&mut conn)?;
        if seed_if_empty(&mut conn, &SEED)? {
            tracing::info!(path = %path.display(), "seeded a new database");
        }
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
    }

    /// The path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The policies of a tenant, by id.
    pub async fn policies(&self, tenant: &TenantId) -> Result<Vec<Policy>, StoreError> {
        let tenant = tenant.clone();
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT p.id, p.description, tp.default_value
                 FROM tenant_policies AS tp
                 JOIN policies AS p ON p.id = tp.policy_id
                 WHERE tp.tenant_id = ?1
                 ORDER BY p.id",
            )?;
            let rows = stmt.query_map(params![tenant.as_str()], policy_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// One policy of a tenant; `policy_id` is matched ignoring case.
    pub async fn policy(
        &self,
        tenant: &TenantId,
        policy_id: &str,
    ) -> Result<Option<Policy>, StoreError> {
        let (tenant, policy_id) = (tenant.clone(), policy_id.to_owned());
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT p.id, p.description, tp.default_value
                 FROM tenant_policies AS tp
                 JOIN policies AS p ON p.id = tp.policy_id
                 WHERE tp.tenant_id = ?1 AND tp.policy_id = ?2",
            )?;
            Ok(stmt
                .query_row(params![tenant.as_str(), policy_id], policy_row)
                .optional()?)
        })
        .await
    }

    /// A tenant's values of a policy for every product, by product name.
    pub async fn product_policies(
        &self,
        tenant: &TenantId,
        policy_id: &str,
    ) -> Result<Vec<ProductPolicy>, StoreError> {
        let (tenant, policy_id) = (tenant.clone(), policy_id.to_owned());
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT p.id, pp.policy_value, pr.name, pr.id, pr.trial_without_payment_method
                 FROM product_policies AS pp
                 JOIN policies AS p ON p.id = pp.policy_id
                 JOIN products AS pr ON pr.id = pp.product_id
                 WHERE pp.tenant_id = ?1 AND pp.policy_id = ?2
                 ORDER BY pr.name COLLATE NOCASE, pr.id",
            )?;
            let rows = stmt.query_map(params![tenant.as_str(), policy_id], product_policy_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// A tenant's value of a policy for one product. `product_id` is matched ignoring case and
    /// may be an old id, which resolves to the product that replaced it.
    pub async fn product_policy(
        &self,
        tenant: &TenantId,
        policy_id: &str,
        product_id: &str,
    ) -> Result<Option<ProductPolicy>, StoreError> {
        let (tenant, policy_id, product_id) =
            (tenant.clone(), policy_id.to_owned(), product_id.to_owned());
        self.with_conn(move |conn| select_product_policy(conn, &tenant, &policy_id, &product_id))
            .await
    }

    /// Sets a tenant's value of a policy for one product (an old id sets the product that
    /// replaced it) and returns the updated setting, or `None` when there is no such setting.
    ///
    /// The caller checks that the value suits the product; the schema only refuses values that
    /// are not policy values at all.
    pub async fn set_product_policy(
        &self,
        tenant: &TenantId,
        policy_id: &str,
        product_id: &str,
        value: PolicyValue,
    ) -> Result<Option<ProductPolicy>, StoreError> {
        let (tenant, policy_id, product_id) =
            (tenant.clone(), policy_id.to_owned(), product_id.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "UPDATE product_policies SET policy_value = ?4
                 WHERE tenant_id = ?1 AND policy_id = ?2
                   AND product_id = COALESCE(
                       (SELECT product_id FROM product_aliases WHERE old_id = ?3), ?3)",
                params![tenant.as_str(), policy_id, product_id, value],
            )?;
            let updated = select_product_policy(&tx, &tenant, &policy_id, &product_id)?;
            tx.commit()?;
            Ok(updated)
        })
        .await
    }

    /// A tenant's values of a policy for every third-party offer type, by offer type name.
    pub async fn offer_type_policies(
        &self,
        tenant: &TenantId,
        policy_id: &str,
    ) -> Result<Vec<OfferTypePolicy>, StoreError> {
        let (tenant, policy_id) = (tenant.clone(), policy_id.to_owned());
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT p.id, op.policy_value, ot.id, ot.name
                 FROM offer_type_policies AS op
                 JOIN policies AS p ON p.id = op.policy_id
                 JOIN offer_types AS ot ON ot.id = op.offer_type_id
                 WHERE op.tenant_id = ?1 AND op.policy_id = ?2
                 ORDER BY ot.name COLLATE NOCASE, ot.id",
            )?;
            let rows = stmt.query_map(params![tenant.as_str(), policy_id], offer_type_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// A tenant's value of a policy for one offer type; `offer_type_id` is matched ignoring case.
    pub async fn offer_type_policy(
        &self,
        tenant: &TenantId,
        policy_id: &str,
        offer_type_id: &str,
    ) -> Result<Option<OfferTypePolicy>, StoreError> {
        let (tenant, policy_id, offer_type_id) = (
            tenant.clone(),
            policy_id.to_owned(),
            offer_type_id.to_owned(),
        );
        self.with_conn(move |conn| {
            select_offer_type_policy(conn, &tenant, &policy_id, &offer_type_id)
        })
        .await
    }

    /// Sets a tenant's value of a policy for one offer type and returns the updated setting, or
    /// `None` when there is no such setting. Offer types take only `Enabled` and `Disabled`; the
    /// schema refuses anything else.
    pub async fn set_offer_type_policy(
        &self,
        tenant: &TenantId,
        policy_id: &str,
        offer_type_id: &str,
        value: PolicyValue,
    ) -> Result<Option<OfferTypePolicy>, StoreError> {
        let (tenant, policy_id, offer_type_id) = (
            tenant.clone(),
            policy_id.to_owned(),
            offer_type_id.to_owned(),
        );
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "UPDATE offer_type_policies SET policy_value = ?4
                 WHERE tenant_id = ?1 AND policy_id = ?2 AND offer_type_id = ?3",
                params![tenant.as_str(), policy_id, offer_type_id, value],
            )?;
            let updated = select_offer_type_policy(&tx, &tenant, &policy_id, &offer_type_id)?;
            tx.commit()?;
            Ok(updated)
        })
        .await
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with_conn<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while the lock was held cannot leave a transaction open (dropping one rolls
            // it back), so a poisoned connection is still consistent and stays usable.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await?
    }
}

/// Sets the connection up: WAL, full sync, foreign keys, and a wait when another process holds
/// the write lock.
fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "cannot switch the journal to WAL (it is {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// Applies the migrations the database has not had yet, each in its own transaction.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let applied = usize::try_from(found)
        .map_err(|_| StoreError::Corrupt(format!("negative schema version {found}")))?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::NewerSchema {
            found,
            supported: MIGRATIONS.len(),
        });
    }
    for (version, sql) in (1_i64..).zip(MIGRATIONS).skip(applied) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied a database migration");
    }
    Ok(())
}

/// Writes `seed` when the database has neither a tenant nor a policy; says whether it did.
fn seed_if_empty(conn: &mut Connection, seed: &Seed) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let seeded: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM tenants) OR EXISTS (SELECT 1 FROM policies)",
        [],
        |row| row.get(0),
    )?;
    if seeded {
        return Ok(false);
    }
    {
        let mut stmt = tx.prepare("INSERT INTO policies (id, description) VALUES (?1, ?2)")?;
        for policy in seed.policies {
            stmt.execute(params![policy.id, policy.description])?;
        }
        let mut stmt = tx.prepare(
            "INSERT INTO products (id, name, trial_without_payment_method) VALUES (?1, ?2, ?3)",
        )?;
        for product in seed.products {
            stmt.execute(params![
                product.id,
                product.name,
                product.trial_without_payment_method
            ])?;
        }
        let mut stmt =
            tx.prepare("INSERT INTO product_aliases (old_id, product_id) VALUES (?1, ?2)")?;
        for alias in seed.aliases {
            stmt.execute(params![alias.old_id, alias.product_id])?;
        }
        let mut stmt = tx.prepare("INSERT INTO offer_types (id, name) VALUES (?1, ?2)")?;
        for offer_type in seed.offer_types {
            stmt.execute(params![offer_type.id, offer_type.name])?;
        }

        let mut add_tenant = tx.prepare("INSERT INTO tenants (id, name) VALUES (?1, ?2)")?;
        let mut add_policy = tx.prepare(
            "INSERT INTO tenant_policies (tenant_id, policy_id, default_value) VALUES (?1, ?2, ?3)",
        )?;
        let mut add_products = tx.prepare(
            "INSERT INTO product_policies (tenant_id, policy_id, product_id, policy_value)
             SELECT ?1, ?2, id, ?3 FROM products",
        )?;
        let mut add_offer_types = tx.prepare(
            "INSERT INTO offer_type_policies (tenant_id, policy_id, offer_type_id, policy_value)
             SELECT ?1, ?2, id, ?3 FROM offer_types",
        )?;
        for tenant in seed.tenants {
            add_tenant.execute(params![tenant.id, tenant.name])?;
            for policy in seed.policies {
                add_policy.execute(params![tenant.id, policy.id, policy.default_value])?;
                add_products.execute(params![tenant.id, policy.id, seed.initial_value])?;
                add_offer_types.execute(params![tenant.id, policy.id, seed.initial_value])?;
            }
        }
    }
    tx.commit()?;
    Ok(true)
}

fn select_product_policy(
    conn: &Connection,
    tenant: &TenantId,
    policy_id: &str,
    product_id: &str,
) -> Result<Option<ProductPolicy>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, pp.policy_value, pr.name, pr.id, pr.trial_without_payment_method
         FROM product_policies AS pp
         JOIN policies AS p ON p.id = pp.policy_id
         JOIN products AS pr ON pr.id = pp.product_id
         WHERE pp.tenant_id = ?1 AND pp.policy_id = ?2
           AND pp.product_id = COALESCE(
               (SELECT product_id FROM product_aliases WHERE old_id = ?3), ?3)",
    )?;
    Ok(stmt
        .query_row(
            params![tenant.as_str(), policy_id, product_id],
            product_policy_row,
        )
        .optional()?)
}

fn select_offer_type_policy(
    conn: &Connection,
    tenant: &TenantId,
    policy_id: &str,
    offer_type_id: &str,
) -> Result<Option<OfferTypePolicy>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, op.policy_value, ot.id, ot.name
         FROM offer_type_policies AS op
         JOIN policies AS p ON p.id = op.policy_id
         JOIN offer_types AS ot ON ot.id = op.offer_type_id
         WHERE op.tenant_id = ?1 AND op.policy_id = ?2 AND op.offer_type_id = ?3",
    )?;
    Ok(stmt
        .query_row(
            params![tenant.as_str(), policy_id, offer_type_id],
            offer_type_row,
        )
        .optional()?)
}

fn policy_row(row: &Row<'_>) -> rusqlite::Result<Policy> {
    Ok(Policy {
        id: row.get(0)?,
        description: row.get(1)?,
        default_value: row.get(2)?,
    })
}

fn product_policy_row(row: &Row<'_>) -> rusqlite::Result<ProductPolicy> {
    Ok(ProductPolicy {
        policy_id: row.get(0)?,
        policy_value: row.get(1)?,
        product_name: row.get(2)?,
        product_id: row.get(3)?,
        trial_without_payment_method: row.get(4)?,
    })
}

fn offer_type_row(row: &Row<'_>) -> rusqlite::Result<OfferTypePolicy> {
    Ok(OfferTypePolicy {
        policy_id: row.get(0)?,
        policy_value: row.get(1)?,
        offer_type_id: row.get(2)?,
        offer_type_name: row.get(3)?,
    })
}

impl ToSql for PolicyValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for PolicyValue {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|error| FromSqlError::Other(Box::new(error)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopening_neither_migrates_nor_seeds_again() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let store = Store::open(dir.path()).unwrap();
        let conn = store.conn.lock().unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, i64::try_from(MIGRATIONS.len()).unwrap());
        let tenants: i64 = conn
            .query_row("SELECT COUNT(*) FROM tenants", [], |row| row.get(0))
            .unwrap();
        assert_eq!(tenants, 1);
    }

    #[test]
    fn a_database_from_a_newer_emulator_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        drop(conn);
        let error = Store::open(dir.path()).unwrap_err();
        assert!(
            matches!(error, StoreError::NewerSchema { found: 999, .. }),
            "{error}"
        );
    }
}
