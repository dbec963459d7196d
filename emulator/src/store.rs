//! All of the emulator's SQL: opening, migrating and seeding the SQLite database, and the
//! queries the routes use.
//!
//! One connection behind a mutex serves the process; every query runs on tokio's blocking pool.
//! The database uses WAL with `synchronous=FULL`, so a change is on disk once its call returns
//! and survives the process being killed, and the machine losing power. That costs one fsync per
//! change, which caps the writes a second (about 1,300 on the benchmark machine);
//! [`Durability::Relaxed`] (`serve --durability relaxed`, for benchmarks) drops the fsync of
//! each commit: a change then survives the process being killed but not a power loss.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use crate::clock;
use crate::model::{
    AuditEntry, ChangeContext, ItemKind, NewProduct, OfferTypePolicy, Policy, PolicyValue,
    ProductPolicy, TenantId,
};
use crate::seed::{Seed, SeedTenant, SEED};

/// The name of the database file inside the data directory.
pub const DATABASE_FILE: &str = "emulator.db";

mod apps;
mod grants;
mod identity;
mod relationships;

pub use apps::{AddAppOutcome, NewAppRecord, StoredCertificate};
pub use grants::{
    AuthCode, DeviceCode, DeviceDecision, DevicePoll, DeviceStatus, NewAuthCode, NewDeviceCode,
    NewRefreshToken, Redemption, RefreshGrant,
};
pub use relationships::RelationshipChange;

/// The files of the state in a data directory: the database and SQLite's WAL files.
const STATE_FILES: [&str; 3] = [DATABASE_FILE, "emulator.db-wal", "emulator.db-shm"];

/// Adds a migration's data to a database that an older emulator seeded.
type Upgrade = fn(&Connection, &Seed) -> Result<(), StoreError>;

/// A schema migration: its SQL, and the data it adds to a database that already held data.
struct Migration {
    sql: &'static str,
    /// Run in the migration's transaction on a database that was seeded by an older emulator
    /// (a new database gets the whole seed instead).
    upgrade: Option<Upgrade>,
}

/// The migrations, in order; migration `n` (from 1) brings the schema to version `n`, which is
/// kept in SQLite's `user_version`.
const MIGRATIONS: &[Migration] = &[
    Migration {
        sql: include_str!("../migrations/0001_init.sql"),
        upgrade: None,
    },
    Migration {
        sql: include_str!("../migrations/0002_identity.sql"),
        upgrade: Some(seed_identity_on_upgrade),
    },
    Migration {
        sql: include_str!("../migrations/0003_apps.sql"),
        upgrade: None,
    },
    Migration {
        sql: include_str!("../migrations/0004_gdap.sql"),
        upgrade: Some(seed_partners_on_upgrade),
    },
];

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
    /// A state file could not be deleted.
    #[error("cannot delete {}", path.display())]
    Delete {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The clock gave a time that cannot be written down.
    #[error("the clock is out of range: {0}")]
    Clock(#[from] clock::ClockError),
}

/// The result of setting a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetOutcome<T> {
    /// There is no such item (for this tenant and policy); nothing changed.
    NotFound,
    /// The item does not take this value (`OnlyTrialsWithoutPaymentMethod` for a product without
    /// such trials, or for an offer type); nothing changed. Holds the item as it is.
    NotAllowed(T),
    /// The value was set and the change recorded in the audit log.
    Updated {
        /// The item after the change.
        item: T,
        /// The value before the change.
        old_value: PolicyValue,
    },
}

/// The result of adding products to a tenant ([`Store::add_products`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddProductsOutcome {
    /// The products were added (those the tenant lacked), in one transaction.
    Added {
        /// The ids of the products the tenant did not have, as the catalog spells them, in the
        /// order given.
        added: Vec<String>,
        /// How many of the products given the tenant already had (left as they were).
        unchanged: usize,
        /// How many products the tenant has now.
        total: u64,
    },
    /// This id is an old product id that a current product replaced; nothing changed.
    OldId(String),
    /// This product is in the catalog without a trial without a payment method, so it cannot
    /// take `OnlyTrialsWithoutPaymentMethod`; nothing changed.
    NoTrial(String),
}

/// How hard the database works to keep a change once its call has returned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Durability {
    /// `synchronous=FULL`: every commit is on disk before the call returns (the default).
    #[default]
    Full,
    /// `synchronous=NORMAL`: commits reach the WAL file without an fsync each; they survive the
    /// process being killed but maybe not a power loss. For benchmarks, so that the emulator's
    /// writes a second are not what a bulk update measures.
    Relaxed,
}

impl Durability {
    fn synchronous(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Relaxed => "NORMAL",
        }
    }
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
        Self::open_with(data_dir, Durability::Full)
    }

    /// [`Store::open`] with the durability of its commits.
    pub fn open_with(data_dir: &Path, durability: Durability) -> Result<Self, StoreError> {
        fs::create_dir_all(data_dir).map_err(|source| StoreError::CreateDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(DATABASE_FILE);
        let mut conn = Connection::open(&path)?;
        configure(&conn, durability)?;
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

    /// Deletes the state in `data_dir` (the database, which holds the signing key too), so the
    /// next [`Store::open`] seeds afresh. Other files in the directory are left alone. Stop any
    /// emulator using the directory first. Returns the files deleted.
    pub fn reset(data_dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
        let mut deleted = Vec::new();
        for name in STATE_FILES {
            let path = data_dir.join(name);
            match fs::remove_file(&path) {
                Ok(()) => deleted.push(path),
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(StoreError::Delete { path, source }),
            }
        }
        Ok(deleted)
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
    /// replaced it) and records the change in the audit log, in one transaction.
    ///
    /// `OnlyTrialsWithoutPaymentMethod` is refused ([`SetOutcome::NotAllowed`]) for a product that
    /// offers no trial without a payment method.
    pub async fn set_product_policy(
        &self,
        tenant: &TenantId,
        policy_id: &str,
        product_id: &str,
        value: PolicyValue,
        change: &ChangeContext,
    ) -> Result<SetOutcome<ProductPolicy>, StoreError> {
        let (tenant, policy_id, product_id, change) = (
            tenant.clone(),
            policy_id.to_owned(),
            product_id.to_owned(),
            change.clone(),
        );
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some(current) = select_product_policy(&tx, &tenant, &policy_id, &product_id)?
            else {
                return Ok(SetOutcome::NotFound);
            };
            if value == PolicyValue::OnlyTrialsWithoutPaymentMethod
                && !current.trial_without_payment_method
            {
                return Ok(SetOutcome::NotAllowed(current));
            }
            tx.execute(
                "UPDATE product_policies SET policy_value = ?4
                 WHERE tenant_id = ?1 AND policy_id = ?2 AND product_id = ?3",
                params![
                    tenant.as_str(),
                    current.policy_id,
                    current.product_id,
                    value
                ],
            )?;
            let entry = AuditEntry {
                tenant_id: tenant.clone(),
                actor_upn: change.actor_upn,
                actor_app_id: change.actor_app_id,
                changed_at: clock::rfc3339(clock::now_s())?,
                policy_id: current.policy_id.clone(),
                item_kind: ItemKind::Product,
                item_id: current.product_id.clone(),
                old_value: current.policy_value,
                new_value: value,
                correlation_id: change.correlation_id,
            };
            insert_audit_entry(&tx, &entry)?;
            tx.commit()?;
            Ok(SetOutcome::Updated {
                item: ProductPolicy {
                    policy_value: value,
                    ..current
                },
                old_value: entry.old_value,
            })
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

    /// Sets a tenant's value of a policy for one offer type and records the change in the audit
    /// log, in one transaction. Offer types take only `Enabled` and `Disabled`
    /// ([`SetOutcome::NotAllowed`] otherwise).
    pub async fn set_offer_type_policy(
        &self,
        tenant: &TenantId,
        policy_id: &str,
        offer_type_id: &str,
        value: PolicyValue,
        change: &ChangeContext,
    ) -> Result<SetOutcome<OfferTypePolicy>, StoreError> {
        let (tenant, policy_id, offer_type_id, change) = (
            tenant.clone(),
            policy_id.to_owned(),
            offer_type_id.to_owned(),
            change.clone(),
        );
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some(current) = select_offer_type_policy(&tx, &tenant, &policy_id, &offer_type_id)?
            else {
                return Ok(SetOutcome::NotFound);
            };
            if value == PolicyValue::OnlyTrialsWithoutPaymentMethod {
                return Ok(SetOutcome::NotAllowed(current));
            }
            tx.execute(
                "UPDATE offer_type_policies SET policy_value = ?4
                 WHERE tenant_id = ?1 AND policy_id = ?2 AND offer_type_id = ?3",
                params![
                    tenant.as_str(),
                    current.policy_id,
                    current.offer_type_id,
                    value
                ],
            )?;
            let entry = AuditEntry {
                tenant_id: tenant.clone(),
                actor_upn: change.actor_upn,
                actor_app_id: change.actor_app_id,
                changed_at: clock::rfc3339(clock::now_s())?,
                policy_id: current.policy_id.clone(),
                item_kind: ItemKind::OfferType,
                item_id: current.offer_type_id.clone(),
                old_value: current.policy_value,
                new_value: value,
                correlation_id: change.correlation_id,
            };
            insert_audit_entry(&tx, &entry)?;
            tx.commit()?;
            Ok(SetOutcome::Updated {
                item: OfferTypePolicy {
                    policy_value: value,
                    ..current
                },
                old_value: entry.old_value,
            })
        })
        .await
    }

    /// Adds products to a tenant, in one transaction: each product joins the catalog (shared by
    /// every tenant; an id already there keeps its name and trial flag) and gets the tenant's
    /// value for every policy the tenant has. A product the tenant already has is left as it is,
    /// so adding the same products again changes nothing. Ids are matched ignoring case.
    ///
    /// Nothing changes when an id is an old, replaced product id
    /// ([`AddProductsOutcome::OldId`]) or when `OnlyTrialsWithoutPaymentMethod` is asked for a
    /// catalog product without such a trial ([`AddProductsOutcome::NoTrial`]).
    pub async fn add_products(
        &self,
        tenant: &TenantId,
        products: Vec<NewProduct>,
    ) -> Result<AddProductsOutcome, StoreError> {
        let tenant = tenant.clone();
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let policies: Vec<String> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT policy_id FROM tenant_policies WHERE tenant_id = ?1 ORDER BY policy_id",
                )?;
                let rows = stmt.query_map(params![tenant.as_str()], |row| row.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            let mut is_old_id = tx.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM product_aliases WHERE old_id = ?1)",
            )?;
            let mut add_product = tx.prepare_cached(
                "INSERT INTO products (id, name, trial_without_payment_method) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO NOTHING",
            )?;
            let mut catalog_product = tx.prepare_cached(
                "SELECT id, trial_without_payment_method FROM products WHERE id = ?1",
            )?;
            let mut add_value = tx.prepare_cached(
                "INSERT INTO product_policies (tenant_id, policy_id, product_id, policy_value)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant_id, policy_id, product_id) DO NOTHING",
            )?;
            let mut added = Vec::new();
            let mut unchanged = 0;
            for product in &products {
                if is_old_id.query_row(params![product.id], |row| row.get::<_, bool>(0))? {
                    return Ok(AddProductsOutcome::OldId(product.id.clone()));
                }
                add_product.execute(params![
                    product.id,
                    product.name,
                    product.trial_without_payment_method
                ])?;
                let (id, trial): (String, bool) = catalog_product
                    .query_row(params![product.id], |row| Ok((row.get(0)?, row.get(1)?)))?;
                if product.policy_value == PolicyValue::OnlyTrialsWithoutPaymentMethod && !trial {
                    return Ok(AddProductsOutcome::NoTrial(id));
                }
                let mut inserted = 0;
                for policy in &policies {
                    inserted += add_value.execute(params![
                        tenant.as_str(),
                        policy,
                        id,
                        product.policy_value
                    ])?;
                }
                if inserted > 0 {
                    added.push(id);
                } else {
                    unchanged += 1;
                }
            }
            let total: i64 = tx.query_row(
                "SELECT COUNT(DISTINCT product_id) FROM product_policies WHERE tenant_id = ?1",
                params![tenant.as_str()],
                |row| row.get(0),
            )?;
            let total = u64::try_from(total)
                .map_err(|_| StoreError::Corrupt(format!("a count of {total} products")))?;
            drop((is_old_id, add_product, catalog_product, add_value));
            tx.commit()?;
            Ok(AddProductsOutcome::Added {
                added,
                unchanged,
                total,
            })
        })
        .await
    }

    /// The audit log, oldest change first: every tenant's, or one tenant's.
    pub async fn audit_log(
        &self,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let tenant = tenant.cloned();
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT tenant_id, actor_upn, changed_at, policy_id, item_kind, item_id,
                        old_value, new_value, correlation_id, actor_app_id
                 FROM audit_log
                 WHERE ?1 IS NULL OR tenant_id = ?1
                 ORDER BY id",
            )?;
            let rows = stmt.query_map(params![tenant.as_ref().map(TenantId::as_str)], audit_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// One tenant's audit log, newest change first; at most `limit` entries when given.
    pub async fn audit_log_newest(
        &self,
        tenant: &TenantId,
        limit: Option<u32>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let tenant = tenant.clone();
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT tenant_id, actor_upn, changed_at, policy_id, item_kind, item_id,
                        old_value, new_value, correlation_id, actor_app_id
                 FROM audit_log
                 WHERE tenant_id = ?1
                 ORDER BY id DESC
                 LIMIT ?2",
            )?;
            // SQLite takes a negative limit as none.
            let limit = limit.map_or(-1, i64::from);
            let rows = stmt.query_map(params![tenant.as_str(), limit], audit_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
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
fn configure(conn: &Connection, durability: Durability) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "cannot switch the journal to WAL (it is {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", durability.synchronous())?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// Applies the migrations the database has not had yet, each in its own transaction (which also
/// reads the version, so two processes opening one new database do not both migrate it).
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let applied = usize::try_from(found)
            .map_err(|_| StoreError::Corrupt(format!("negative schema version {found}")))?;
        if applied > MIGRATIONS.len() {
            return Err(StoreError::NewerSchema {
                found,
                supported: MIGRATIONS.len(),
            });
        }
        let Some(migration) = MIGRATIONS.get(applied) else {
            return Ok(());
        };
        tx.execute_batch(migration.sql)?;
        if let Some(upgrade) = migration.upgrade {
            let seeded: bool =
                tx.query_row("SELECT EXISTS (SELECT 1 FROM tenants)", [], |row| {
                    row.get(0)
                })?;
            if seeded {
                upgrade(&tx, &SEED)?;
            }
        }
        let version = found + 1;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied a database migration");
    }
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
        for tenant in seed.tenants {
            seed_tenant_state(&tx, seed, tenant)?;
        }
        seed_identity(&tx, seed)?;
        seed_apps(&tx, seed)?;
        seed_tenant_apps(&tx, seed)?;
        seed_relationships(&tx, seed)?;
    }
    tx.commit()?;
    Ok(true)
}

/// Adds a tenant with every policy, product and offer type at the seed's values.
fn seed_tenant_state(
    conn: &Connection,
    seed: &Seed,
    tenant: &SeedTenant,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO tenants (id, name) VALUES (?1, ?2)",
        params![tenant.id, tenant.name],
    )?;
    let mut add_policy = conn.prepare_cached(
        "INSERT INTO tenant_policies (tenant_id, policy_id, default_value) VALUES (?1, ?2, ?3)",
    )?;
    let mut add_products = conn.prepare_cached(
        "INSERT INTO product_policies (tenant_id, policy_id, product_id, policy_value)
         SELECT ?1, ?2, id, ?3 FROM products",
    )?;
    let mut add_offer_types = conn.prepare_cached(
        "INSERT INTO offer_type_policies (tenant_id, policy_id, offer_type_id, policy_value)
         SELECT ?1, ?2, id, ?3 FROM offer_types",
    )?;
    for policy in seed.policies {
        add_policy.execute(params![tenant.id, policy.id, policy.default_value])?;
        add_products.execute(params![tenant.id, policy.id, seed.initial_value])?;
        add_offer_types.execute(params![tenant.id, policy.id, seed.initial_value])?;
    }
    Ok(())
}

/// Adds the seed's domains, users and roles (schema version 2).
fn seed_identity(conn: &Connection, seed: &Seed) -> Result<(), StoreError> {
    for tenant in seed.tenants {
        seed_tenant_identity(conn, tenant)?;
    }
    Ok(())
}

/// Adds a tenant's domain, users and roles.
fn seed_tenant_identity(conn: &Connection, tenant: &SeedTenant) -> Result<(), StoreError> {
    let mut add_domain =
        conn.prepare_cached("INSERT INTO tenant_domains (domain, tenant_id) VALUES (?1, ?2)")?;
    let mut add_user = conn.prepare_cached(
        "INSERT INTO users (oid, tenant_id, upn, display_name) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut add_role =
        conn.prepare_cached("INSERT INTO user_roles (user_oid, role_template_id) VALUES (?1, ?2)")?;
    add_domain.execute(params![tenant.domain, tenant.id])?;
    for user in tenant.users {
        add_user.execute(params![user.oid, tenant.id, user.upn, user.display_name])?;
        for role in user.roles {
            add_role.execute(params![user.oid, role.template_id()])?;
        }
    }
    Ok(())
}

/// Adds the seed's apps that have a home tenant (schema version 4), with their secret,
/// permissions and consents; an app already registered is left as it is.
fn seed_tenant_apps(conn: &Connection, seed: &Seed) -> Result<(), StoreError> {
    let now_ms = clock::now_ms();
    for app in seed.tenant_apps {
        let added = conn.execute(
            "INSERT OR IGNORE INTO app_registrations (client_id, display_name, object_id,
                 home_tenant_id, multi_tenant, public_client, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)",
            params![
                app.client_id,
                app.display_name,
                app.object_id,
                app.home_tenant_id,
                app.multi_tenant,
                now_ms
            ],
        )?;
        if added == 0 {
            continue;
        }
        conn.execute(
            "INSERT INTO app_secrets (client_id, secret_sha256, created_at_ms) VALUES (?1, ?2, ?3)",
            params![
                app.client_id,
                crate::secrets::sha256_hex(app.secret),
                now_ms
            ],
        )?;
        for role in app.roles {
            conn.execute(
                "INSERT INTO app_roles (client_id, role) VALUES (?1, ?2)",
                params![app.client_id, role.name()],
            )?;
        }
        for (tenant, principal) in app.consents {
            conn.execute(
                "INSERT INTO app_consents (client_id, tenant_id, service_principal_id,
                                           consented_at_ms)
                 VALUES (?1, ?2, ?3, ?4)",
                params![app.client_id, tenant, principal, now_ms],
            )?;
        }
    }
    Ok(())
}

/// Adds the seed's delegated admin relationships (schema version 4), lasting their days from
/// now; a relationship whose id exists is left as it is.
fn seed_relationships(conn: &Connection, seed: &Seed) -> Result<(), StoreError> {
    let now_ms = clock::now_ms();
    for relationship in seed.relationships {
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM delegated_admin_relationships WHERE id = ?1)",
            params![relationship.id],
            |row| row.get(0),
        )?;
        if exists {
            continue;
        }
        relationships::insert_relationship(
            conn,
            relationship.id,
            relationship.display_name,
            (
                &TenantId::new(relationship.partner_tenant_id),
                &TenantId::new(relationship.customer_tenant_id),
            ),
            relationship.roles,
            relationship.users,
            (
                now_ms,
                now_ms.saturating_add(relationship.days.saturating_mul(24 * 60 * 60 * 1000)),
            ),
        )?;
    }
    Ok(())
}

/// Migration 4 on a database seeded by an older emulator: adds the seed's tenants it lacks (the
/// partner and its customers, with their policy state, domains and users), the apps with a home
/// tenant and the relationships.
fn seed_partners_on_upgrade(conn: &Connection, seed: &Seed) -> Result<(), StoreError> {
    for tenant in seed.tenants {
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM tenants WHERE id = ?1)",
            params![tenant.id],
            |row| row.get(0),
        )?;
        if !exists {
            seed_tenant_state(conn, seed, tenant)?;
            seed_tenant_identity(conn, tenant)?;
        }
    }
    seed_tenant_apps(conn, seed)?;
    seed_relationships(conn, seed)
}

/// Adds the seed's app registrations, as schema version 2 holds them (migration 3 moves their
/// secrets into `app_secrets`).
fn seed_apps_v2(conn: &Connection, seed: &Seed) -> Result<(), StoreError> {
    let mut add_app = conn.prepare_cached(
        "INSERT INTO app_registrations (client_id, display_name, object_id, secret_sha256)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for app in seed.apps {
        let secret = app.secret.map(crate::secrets::sha256_hex);
        add_app.execute(params![
            app.client_id,
            app.display_name,
            app.object_id,
            secret
        ])?;
    }
    Ok(())
}

/// Adds the seed's app registrations to a database of the current schema: usable in every
/// tenant (no home tenant), without application permissions.
fn seed_apps(conn: &Connection, seed: &Seed) -> Result<(), StoreError> {
    let mut add_app = conn.prepare_cached(
        "INSERT INTO app_registrations (client_id, display_name, object_id, public_client)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut add_secret = conn.prepare_cached(
        "INSERT INTO app_secrets (client_id, secret_sha256, created_at_ms) VALUES (?1, ?2, 0)",
    )?;
    for app in seed.apps {
        add_app.execute(params![
            app.client_id,
            app.display_name,
            app.object_id,
            app.secret.is_none()
        ])?;
        if let Some(secret) = app.secret {
            add_secret.execute(params![app.client_id, crate::secrets::sha256_hex(secret)])?;
        }
    }
    Ok(())
}

/// Migration 2 on a database seeded by an older emulator: adds the seed's tenants it lacks (with
/// their policy state), then the domains, users, roles and app registrations.
fn seed_identity_on_upgrade(conn: &Connection, seed: &Seed) -> Result<(), StoreError> {
    for tenant in seed.tenants {
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM tenants WHERE id = ?1)",
            params![tenant.id],
            |row| row.get(0),
        )?;
        if !exists {
            seed_tenant_state(conn, seed, tenant)?;
        }
    }
    seed_identity(conn, seed)?;
    seed_apps_v2(conn, seed)
}

fn insert_audit_entry(conn: &Connection, entry: &AuditEntry) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO audit_log (tenant_id, actor_upn, changed_at, policy_id, item_kind, item_id,
                                old_value, new_value, correlation_id, actor_app_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        entry.tenant_id.as_str(),
        entry.actor_upn,
        entry.changed_at,
        entry.policy_id,
        entry.item_kind.as_str(),
        entry.item_id,
        entry.old_value,
        entry.new_value,
        entry.correlation_id,
        entry.actor_app_id,
    ])?;
    Ok(())
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

fn audit_row(row: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        tenant_id: TenantId::new(row.get::<_, String>(0)?),
        actor_upn: row.get(1)?,
        actor_app_id: row.get(9)?,
        changed_at: row.get(2)?,
        policy_id: row.get(3)?,
        item_kind: row.get(4)?,
        item_id: row.get(5)?,
        old_value: row.get(6)?,
        new_value: row.get(7)?,
        correlation_id: row.get(8)?,
    })
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

impl FromSql for ItemKind {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value.as_str()? {
            "product" => Ok(Self::Product),
            "offerType" => Ok(Self::OfferType),
            other => Err(FromSqlError::Other(
                format!("'{other}' is not an item kind").into(),
            )),
        }
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
        assert_eq!(tenants, 6);
        let relationships: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM delegated_admin_relationships",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(relationships, 3);
    }

    #[tokio::test]
    async fn a_version_1_database_gains_the_second_tenant_and_the_users() {
        let dir = tempfile::tempdir().unwrap();
        {
            // What the first emulator wrote: schema 1, contoso only, one product changed.
            let conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
            conn.execute_batch(MIGRATIONS[0].sql).unwrap();
            conn.execute_batch(
                "INSERT INTO policies VALUES ('AllowSelfServicePurchase', 'd');
                 INSERT INTO products VALUES ('CFQ7TTC0LH3L', 'Power Automate per user', 0);
                 INSERT INTO offer_types VALUES ('SaaS', 'Software as a Service');
                 INSERT INTO tenants VALUES ('00000000-0000-0000-0000-0000000c0de1', 'contoso');
                 INSERT INTO tenant_policies VALUES
                     ('00000000-0000-0000-0000-0000000c0de1', 'AllowSelfServicePurchase', 'Enabled');
                 INSERT INTO product_policies VALUES ('00000000-0000-0000-0000-0000000c0de1',
                     'AllowSelfServicePurchase', 'CFQ7TTC0LH3L', 'Disabled');
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let contoso = TenantId::new(crate::seed::DEFAULT_TENANT_ID);
        let kept = store
            .product_policy(&contoso, "AllowSelfServicePurchase", "CFQ7TTC0LH3L")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kept.policy_value, PolicyValue::Disabled);
        let fabrikam = store.find_tenant("fabrikam.onmicrosoft.com").await.unwrap();
        assert!(fabrikam.is_some());
        // Migration 2 adds every seeded tenant's users (the partner's and its customers' too).
        assert_eq!(store.users(None).await.unwrap().len(), 11);
        // Migration 3 moved the seeded app's secret out of its row; the module stays public.
        let hashes = store
            .app_secret_hashes(crate::seed::APP_CLIENT_ID)
            .await
            .unwrap();
        assert_eq!(
            hashes,
            vec![crate::secrets::sha256_hex(crate::seed::APP_CLIENT_SECRET)]
        );
        let module = store
            .app_registration(crate::seed::MODULE_CLIENT_ID)
            .await
            .unwrap()
            .unwrap();
        assert!(module.is_public() && module.home_tenant_id.is_none());
    }

    #[tokio::test]
    async fn a_version_3_database_gains_the_partner_its_customers_and_relationships() {
        let dir = tempfile::tempdir().unwrap();
        {
            // What the previous emulator wrote: schema 3, contoso only, one product changed.
            let conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
            for migration in &MIGRATIONS[..3] {
                conn.execute_batch(migration.sql).unwrap();
            }
            conn.execute_batch(
                "INSERT INTO policies VALUES ('AllowSelfServicePurchase', 'd');
                 INSERT INTO products VALUES ('CFQ7TTC0LH3L', 'Power Automate per user', 0);
                 INSERT INTO tenants VALUES ('00000000-0000-0000-0000-0000000c0de1', 'contoso');
                 INSERT INTO tenant_policies VALUES
                     ('00000000-0000-0000-0000-0000000c0de1', 'AllowSelfServicePurchase', 'Enabled');
                 INSERT INTO product_policies VALUES ('00000000-0000-0000-0000-0000000c0de1',
                     'AllowSelfServicePurchase', 'CFQ7TTC0LH3L', 'Disabled');
                 PRAGMA user_version = 3;",
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let adatum = TenantId::new(crate::seed::ADATUM_TENANT_ID);
        let gained = store
            .product_policy(&adatum, "AllowSelfServicePurchase", "CFQ7TTC0LH3L")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(gained.policy_value, PolicyValue::Enabled);
        let contoso = TenantId::new(crate::seed::DEFAULT_TENANT_ID);
        let kept = store
            .product_policy(&contoso, "AllowSelfServicePurchase", "CFQ7TTC0LH3L")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kept.policy_value, PolicyValue::Disabled);
        assert_eq!(store.relationships(None, None).await.unwrap().len(), 3);
        let access = store
            .tenant_access(crate::seed::PARTNER_ADMIN_OID, &adatum, clock::now_ms())
            .await
            .unwrap();
        assert_eq!(
            access,
            Some(crate::model::TenantAccess::Delegated(vec![
                crate::model::Role::BillingAdministrator
            ]))
        );
        let consented = store
            .service_principal(crate::seed::PARTNER_APP_CLIENT_ID, &adatum)
            .await
            .unwrap();
        assert!(consented.is_some());
    }

    #[test]
    fn reset_deletes_the_database_only() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        std::fs::write(dir.path().join("notes.txt"), "keep").unwrap();
        let deleted = Store::reset(dir.path()).unwrap();
        assert!(
            deleted.contains(&dir.path().join(DATABASE_FILE)),
            "{deleted:?}"
        );
        assert!(!dir.path().join(DATABASE_FILE).exists());
        assert!(dir.path().join("notes.txt").exists());
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
