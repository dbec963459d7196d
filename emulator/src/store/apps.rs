//! App registrations and their credentials: application permissions, client secrets (their
//! SHA-256 only), certificates, federated credentials, managed identities, the tenants that
//! consented to each app, and the client assertions already used.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::{Store, StoreError};
use crate::model::{AppPermission, AppRegistration, ManagedIdentity, TenantId};

/// The columns of an app registration, with its permissions separated by spaces.
const APP_COLUMNS: &str = "SELECT a.client_id, a.display_name, a.object_id, a.home_tenant_id,
        a.multi_tenant, a.public_client, a.managed_identity,
        (SELECT group_concat(role, ' ') FROM app_roles WHERE client_id = a.client_id)
     FROM app_registrations AS a";

/// A new app registration with its credentials, checked ([`crate::apps`] builds it).
#[derive(Debug, Clone)]
pub struct NewAppRecord {
    /// The registration (its `home_tenant_id` is set).
    pub app: AppRegistration,
    /// The SHA-256 (hex) of each client secret.
    pub secret_sha256: Vec<String>,
    /// The certificates.
    pub certificates: Vec<StoredCertificate>,
    /// The federated credentials: `(issuer, subject, audience)`.
    pub federated: Vec<(String, String, String)>,
    /// The object id of the service principal in the home tenant.
    pub service_principal_id: String,
}

/// A certificate credential of an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCertificate {
    /// The SHA-1 of the DER certificate, uppercase hex (what `x5t` names, base64url).
    pub sha1_thumbprint: String,
    /// The SHA-256 of the DER certificate, uppercase hex (what `x5t#S256` names, base64url).
    pub sha256_thumbprint: String,
    /// The certificate, DER.
    pub der: Vec<u8>,
}

/// What became of [`Store::add_app`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddAppOutcome {
    /// The app was stored and consented in its home tenant.
    Added,
    /// An app with this id exists already; nothing changed.
    Exists,
    /// The database has a system-assigned identity already; nothing changed.
    SystemIdentityExists,
    /// Two federated credentials have the same issuer and subject; nothing changed.
    DuplicateFederated,
}

impl Store {
    /// The app registration with this client id (ignoring case).
    pub async fn app_registration(
        &self,
        client_id: &str,
    ) -> Result<Option<AppRegistration>, StoreError> {
        let client_id = client_id.to_owned();
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(&format!("{APP_COLUMNS} WHERE a.client_id = ?1"))?;
            Ok(stmt.query_row(params![client_id], app_row).optional()?)
        })
        .await
    }

    /// Every app registration, by display name.
    pub async fn app_registrations(&self) -> Result<Vec<AppRegistration>, StoreError> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "{APP_COLUMNS} ORDER BY a.display_name, a.client_id"
            ))?;
            let rows = stmt.query_map([], app_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// The managed identities of a kind, by display name.
    pub async fn managed_identities(
        &self,
        kind: ManagedIdentity,
    ) -> Result<Vec<AppRegistration>, StoreError> {
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "{APP_COLUMNS} WHERE a.managed_identity = ?1 ORDER BY a.display_name, a.client_id"
            ))?;
            let rows = stmt.query_map(params![kind.as_str()], app_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Stores a new app with its credentials and its consent in the home tenant, in one
    /// transaction.
    pub async fn add_app(
        &self,
        record: NewAppRecord,
        now_ms: i64,
    ) -> Result<AddAppOutcome, StoreError> {
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let app = &record.app;
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM app_registrations WHERE client_id = ?1)",
                params![app.client_id],
                |row| row.get(0),
            )?;
            if exists {
                return Ok(AddAppOutcome::Exists);
            }
            if app.managed_identity == Some(ManagedIdentity::System) {
                let system: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM app_registrations
                                    WHERE managed_identity = 'system')",
                    [],
                    |row| row.get(0),
                )?;
                if system {
                    return Ok(AddAppOutcome::SystemIdentityExists);
                }
            }
            let home = app
                .home_tenant_id
                .as_ref()
                .ok_or_else(|| StoreError::Corrupt("a new app without a home tenant".into()))?;
            tx.execute(
                "INSERT INTO app_registrations (client_id, display_name, object_id,
                     home_tenant_id, multi_tenant, public_client, managed_identity, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7)",
                params![
                    app.client_id,
                    app.display_name,
                    app.object_id,
                    home.as_str(),
                    app.multi_tenant,
                    app.managed_identity.map(ManagedIdentity::as_str),
                    now_ms
                ],
            )?;
            for role in &app.roles {
                tx.execute(
                    "INSERT OR IGNORE INTO app_roles (client_id, role) VALUES (?1, ?2)",
                    params![app.client_id, role.name()],
                )?;
            }
            for hash in &record.secret_sha256 {
                tx.execute(
                    "INSERT INTO app_secrets (client_id, secret_sha256, created_at_ms)
                     VALUES (?1, ?2, ?3)",
                    params![app.client_id, hash, now_ms],
                )?;
            }
            for cert in &record.certificates {
                tx.execute(
                    "INSERT OR IGNORE INTO app_certificates
                         (client_id, sha1_thumbprint, sha256_thumbprint, certificate_der)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        app.client_id,
                        cert.sha1_thumbprint,
                        cert.sha256_thumbprint,
                        cert.der
                    ],
                )?;
            }
            for (issuer, subject, audience) in &record.federated {
                let inserted = tx.execute(
                    "INSERT OR IGNORE INTO app_federated_credentials
                         (client_id, issuer, subject, audience)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![app.client_id, issuer, subject, audience],
                )?;
                if inserted == 0 {
                    return Ok(AddAppOutcome::DuplicateFederated);
                }
            }
            tx.execute(
                "INSERT INTO app_consents (client_id, tenant_id, service_principal_id,
                                           consented_at_ms)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    app.client_id,
                    home.as_str(),
                    record.service_principal_id,
                    now_ms
                ],
            )?;
            tx.commit()?;
            Ok(AddAppOutcome::Added)
        })
        .await
    }

    /// Records the consent of `tenant` to the app (its service principal there, with
    /// `new_principal_id` unless it has one already); returns the service principal's id.
    pub async fn consent_app(
        &self,
        client_id: &str,
        tenant: &TenantId,
        new_principal_id: &str,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let (client_id, tenant, new_id) = (
            client_id.to_owned(),
            tenant.clone(),
            new_principal_id.to_owned(),
        );
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT OR IGNORE INTO app_consents (client_id, tenant_id, service_principal_id,
                                                     consented_at_ms)
                 VALUES (?1, ?2, ?3, ?4)",
                params![client_id, tenant.as_str(), new_id, now_ms],
            )?;
            let id = service_principal_in(&tx, &client_id, &tenant)?
                .ok_or_else(|| StoreError::Corrupt("a consent that was not stored".into()))?;
            tx.commit()?;
            Ok(id)
        })
        .await
    }

    /// The object id of the app's service principal in `tenant`: `None` when the tenant has not
    /// consented to the app.
    pub async fn service_principal(
        &self,
        client_id: &str,
        tenant: &TenantId,
    ) -> Result<Option<String>, StoreError> {
        let (client_id, tenant) = (client_id.to_owned(), tenant.clone());
        self.with_conn(move |conn| service_principal_in(conn, &client_id, &tenant))
            .await
    }

    /// The tenants that consented to the app, with its service principal there, oldest first.
    pub async fn app_consents(
        &self,
        client_id: &str,
    ) -> Result<Vec<(TenantId, String)>, StoreError> {
        let client_id = client_id.to_owned();
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT tenant_id, service_principal_id FROM app_consents
                 WHERE client_id = ?1 ORDER BY consented_at_ms, rowid",
            )?;
            let rows = stmt.query_map(params![client_id], |row| {
                Ok((TenantId::new(row.get::<_, String>(0)?), row.get(1)?))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// The SHA-256 (hex) of each of the app's client secrets.
    pub async fn app_secret_hashes(&self, client_id: &str) -> Result<Vec<String>, StoreError> {
        let client_id = client_id.to_owned();
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT secret_sha256 FROM app_secrets WHERE client_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map(params![client_id], |row| row.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// The app's certificates.
    pub async fn app_certificates(
        &self,
        client_id: &str,
    ) -> Result<Vec<StoredCertificate>, StoreError> {
        let client_id = client_id.to_owned();
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT sha1_thumbprint, sha256_thumbprint, certificate_der FROM app_certificates
                 WHERE client_id = ?1 ORDER BY rowid",
            )?;
            let rows = stmt.query_map(params![client_id], |row| {
                Ok(StoredCertificate {
                    sha1_thumbprint: row.get(0)?,
                    sha256_thumbprint: row.get(1)?,
                    der: row.get(2)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// The app's federated credentials: `(issuer, subject, audience)`.
    pub async fn app_federated_credentials(
        &self,
        client_id: &str,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        let client_id = client_id.to_owned();
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT issuer, subject, audience FROM app_federated_credentials
                 WHERE client_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map(params![client_id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Records the use of the client assertion `jti` of an app, valid until `expires_at_ms`;
    /// `false` when it was used already and has not expired (a replay). Forgets expired ones.
    pub async fn use_assertion(
        &self,
        client_id: &str,
        jti: &str,
        expires_at_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (client_id, jti) = (client_id.to_owned(), jti.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM used_assertions WHERE expires_at_ms < ?1",
                params![now_ms],
            )?;
            let inserted = tx.execute(
                "INSERT OR IGNORE INTO used_assertions (client_id, jti, expires_at_ms)
                 VALUES (?1, ?2, ?3)",
                params![client_id, jti, expires_at_ms],
            )?;
            tx.commit()?;
            Ok(inserted == 1)
        })
        .await
    }
}

fn service_principal_in(
    conn: &Connection,
    client_id: &str,
    tenant: &TenantId,
) -> Result<Option<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT service_principal_id FROM app_consents WHERE client_id = ?1 AND tenant_id = ?2",
    )?;
    Ok(stmt
        .query_row(params![client_id, tenant.as_str()], |row| row.get(0))
        .optional()?)
}

fn app_row(row: &Row<'_>) -> rusqlite::Result<AppRegistration> {
    let home: Option<String> = row.get(3)?;
    let identity: Option<String> = row.get(6)?;
    let roles: Option<String> = row.get(7)?;
    let mut roles: Vec<AppPermission> = roles
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(AppPermission::from_name)
        .collect();
    roles.sort_unstable();
    Ok(AppRegistration {
        client_id: row.get(0)?,
        display_name: row.get(1)?,
        object_id: row.get(2)?,
        home_tenant_id: home.map(TenantId::new),
        multi_tenant: row.get(4)?,
        public_client: row.get(5)?,
        managed_identity: identity.as_deref().and_then(ManagedIdentity::from_name),
        roles,
    })
}
