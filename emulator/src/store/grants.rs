//! What the sign-in authority hands out and takes back: authorization codes, device codes and
//! refresh tokens. Only SHA-256 hashes of the secrets are stored; each check-and-use runs in one
//! transaction, so a code or refresh token is used once even under concurrent requests.

use std::convert::Infallible;

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::{Store, StoreError};
use crate::model::TenantId;

/// How long expired grants are kept (to tell "expired" from "unknown") before they are purged.
const KEEP_EXPIRED_MS: i64 = 24 * 60 * 60 * 1000;

/// The outcome of using a single-use grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption<T, E> {
    /// No such grant.
    Unknown,
    /// The grant was used already.
    AlreadyRedeemed,
    /// The grant has expired.
    Expired,
    /// The caller's check refused the grant; it stays usable.
    Rejected(E),
    /// The grant was used now.
    Redeemed(T),
}

/// A new authorization code.
#[derive(Debug, Clone)]
pub struct NewAuthCode {
    /// The SHA-256 (hex) of the code.
    pub code_sha256: String,
    /// The stored grant.
    pub code: AuthCode,
    /// When it expires (Unix ms).
    pub expires_at_ms: i64,
}

/// What an authorization code grants, and what redeeming it must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    /// The signed-in user's tenant.
    pub tenant_id: TenantId,
    /// The signed-in user.
    pub user_oid: String,
    /// The client the code was issued to.
    pub client_id: String,
    /// The redirect URI of the authorization request.
    pub redirect_uri: String,
    /// The PKCE `S256` challenge of the authorization request.
    pub code_challenge: String,
    /// The granted scope (normalized).
    pub scope: String,
    /// The `nonce` of the authorization request, for the ID token.
    pub nonce: Option<String>,
}

/// A new refresh token.
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    /// The SHA-256 (hex) of the token.
    pub token_sha256: String,
    /// What it grants.
    pub grant: RefreshGrant,
    /// When it expires (Unix ms).
    pub expires_at_ms: i64,
}

/// What a refresh token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshGrant {
    /// The user's tenant.
    pub tenant_id: TenantId,
    /// The user.
    pub user_oid: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// The granted scope (normalized).
    pub scope: String,
}

/// A new device code.
#[derive(Debug, Clone)]
pub struct NewDeviceCode {
    /// The SHA-256 (hex) of the device code.
    pub device_code_sha256: String,
    /// The user code (normalized: upper case, no separators).
    pub user_code: String,
    /// The tenant the flow was started in; `None` for `organizations`/`common`.
    pub tenant_id: Option<TenantId>,
    /// The client that started the flow.
    pub client_id: String,
    /// The requested scope (normalized).
    pub scope: String,
    /// The polling interval, in seconds.
    pub interval_s: i64,
    /// When it expires (Unix ms).
    pub expires_at_ms: i64,
}

/// Where a device code stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the user.
    Pending,
    /// The user approved; the next poll gets the tokens.
    Approved,
    /// The user declined.
    Denied,
    /// The tokens were handed out.
    Redeemed,
}

/// A stored device code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    /// The user code.
    pub user_code: String,
    /// The tenant the flow was started in; `None` for `organizations`/`common`.
    pub tenant_id: Option<TenantId>,
    /// The client that started the flow.
    pub client_id: String,
    /// The requested scope (normalized).
    pub scope: String,
    /// When it expires (Unix ms).
    pub expires_at_ms: i64,
    /// Where it stands.
    pub status: DeviceStatus,
    /// The user who approved or declined it.
    pub user_oid: Option<String>,
}

/// A user's answer on the device sign-in page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceDecision {
    /// The user signed in and approved.
    Approve {
        /// The user.
        user_oid: String,
    },
    /// The user declined.
    Deny,
}

/// The outcome of polling a device code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevicePoll<E> {
    /// No such device code.
    Unknown,
    /// The caller's check refused the code (e.g. another client polls it).
    Rejected(E),
    /// The tokens were handed out already.
    AlreadyRedeemed,
    /// The code has expired.
    Expired,
    /// The user declined.
    Denied,
    /// Still waiting for the user.
    Pending,
    /// Still waiting, and polled faster than the interval: the interval grew by 5 s.
    SlowDown,
    /// The user approved: hand out tokens for this user (the code is now redeemed).
    Approved {
        /// The user's tenant.
        tenant_id: TenantId,
        /// The user.
        user_oid: String,
        /// The granted scope.
        scope: String,
    },
}

impl Store {
    /// Stores a new authorization code (and purges long-expired ones).
    pub async fn insert_auth_code(&self, new: NewAuthCode, now_ms: i64) -> Result<(), StoreError> {
        self.with_conn(move |conn| {
            conn.execute(
                "DELETE FROM authorization_codes WHERE expires_at_ms < ?1",
                params![now_ms - KEEP_EXPIRED_MS],
            )?;
            let code = &new.code;
            conn.execute(
                "INSERT INTO authorization_codes (code_sha256, tenant_id, user_oid, client_id,
                     redirect_uri, code_challenge, scope, nonce, expires_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    new.code_sha256,
                    code.tenant_id.as_str(),
                    code.user_oid,
                    code.client_id,
                    code.redirect_uri,
                    code.code_challenge,
                    code.scope,
                    code.nonce,
                    new.expires_at_ms,
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// Redeems an authorization code once: `check` sees the code first and may refuse it (a
    /// refused code stays usable).
    pub async fn redeem_auth_code<E, F>(
        &self,
        code_sha256: &str,
        now_ms: i64,
        check: F,
    ) -> Result<Redemption<AuthCode, E>, StoreError>
    where
        E: Send + 'static,
        F: FnOnce(&AuthCode) -> Result<(), E> + Send + 'static,
    {
        let code_sha256 = code_sha256.to_owned();
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found = tx
                .prepare_cached(
                    "SELECT tenant_id, user_oid, client_id, redirect_uri, code_challenge, scope,
                            nonce, expires_at_ms, redeemed_at_ms
                     FROM authorization_codes WHERE code_sha256 = ?1",
                )?
                .query_row(params![code_sha256], |row| {
                    let code = AuthCode {
                        tenant_id: TenantId::new(row.get::<_, String>(0)?),
                        user_oid: row.get(1)?,
                        client_id: row.get(2)?,
                        redirect_uri: row.get(3)?,
                        code_challenge: row.get(4)?,
                        scope: row.get(5)?,
                        nonce: row.get(6)?,
                    };
                    let expires: i64 = row.get(7)?;
                    let redeemed: Option<i64> = row.get(8)?;
                    Ok((code, expires, redeemed))
                })
                .optional()?;
            let Some((code, expires_at_ms, redeemed_at_ms)) = found else {
                return Ok(Redemption::Unknown);
            };
            if redeemed_at_ms.is_some() {
                return Ok(Redemption::AlreadyRedeemed);
            }
            if now_ms >= expires_at_ms {
                return Ok(Redemption::Expired);
            }
            if let Err(error) = check(&code) {
                return Ok(Redemption::Rejected(error));
            }
            tx.execute(
                "UPDATE authorization_codes SET redeemed_at_ms = ?2 WHERE code_sha256 = ?1",
                params![code_sha256, now_ms],
            )?;
            tx.commit()?;
            Ok(Redemption::Redeemed(code))
        })
        .await
    }

    /// Stores a new refresh token (and purges long-expired ones).
    pub async fn insert_refresh_token(
        &self,
        new: NewRefreshToken,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.with_conn(move |conn| {
            conn.execute(
                "DELETE FROM refresh_tokens WHERE expires_at_ms < ?1",
                params![now_ms - KEEP_EXPIRED_MS],
            )?;
            insert_refresh_token(conn, &new)
        })
        .await
    }

    /// Exchanges a refresh token for a new one with the same grant (rotation): the old one never
    /// works again. `check` sees the grant first and may refuse it (the old token stays usable).
    pub async fn rotate_refresh_token<E, F>(
        &self,
        old_sha256: &str,
        new_sha256: &str,
        new_expires_at_ms: i64,
        now_ms: i64,
        check: F,
    ) -> Result<Redemption<RefreshGrant, E>, StoreError>
    where
        E: Send + 'static,
        F: FnOnce(&RefreshGrant) -> Result<(), E> + Send + 'static,
    {
        let (old_sha256, new_sha256) = (old_sha256.to_owned(), new_sha256.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found = tx
                .prepare_cached(
                    "SELECT tenant_id, user_oid, client_id, scope, expires_at_ms, redeemed_at_ms
                     FROM refresh_tokens WHERE token_sha256 = ?1",
                )?
                .query_row(params![old_sha256], |row| {
                    let grant = RefreshGrant {
                        tenant_id: TenantId::new(row.get::<_, String>(0)?),
                        user_oid: row.get(1)?,
                        client_id: row.get(2)?,
                        scope: row.get(3)?,
                    };
                    let expires: i64 = row.get(4)?;
                    let redeemed: Option<i64> = row.get(5)?;
                    Ok((grant, expires, redeemed))
                })
                .optional()?;
            let Some((grant, expires_at_ms, redeemed_at_ms)) = found else {
                return Ok(Redemption::Unknown);
            };
            if redeemed_at_ms.is_some() {
                return Ok(Redemption::AlreadyRedeemed);
            }
            if now_ms >= expires_at_ms {
                return Ok(Redemption::Expired);
            }
            if let Err(error) = check(&grant) {
                return Ok(Redemption::Rejected(error));
            }
            tx.execute(
                "UPDATE refresh_tokens SET redeemed_at_ms = ?2 WHERE token_sha256 = ?1",
                params![old_sha256, now_ms],
            )?;
            insert_refresh_token(
                &tx,
                &NewRefreshToken {
                    token_sha256: new_sha256,
                    grant: grant.clone(),
                    expires_at_ms: new_expires_at_ms,
                },
            )?;
            tx.commit()?;
            Ok(Redemption::Redeemed(grant))
        })
        .await
    }

    /// The grant of a refresh token that still works (neither used nor expired), without using
    /// it: what the token endpoint checks before deciding which tenant it may issue tokens for.
    pub async fn live_refresh_grant(
        &self,
        token_sha256: &str,
        now_ms: i64,
    ) -> Result<Option<RefreshGrant>, StoreError> {
        let hash = token_sha256.to_owned();
        self.with_conn(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT tenant_id, user_oid, client_id, scope FROM refresh_tokens
                     WHERE token_sha256 = ?1 AND redeemed_at_ms IS NULL AND expires_at_ms > ?2",
                )?
                .query_row(params![hash, now_ms], |row| {
                    Ok(RefreshGrant {
                        tenant_id: TenantId::new(row.get::<_, String>(0)?),
                        user_oid: row.get(1)?,
                        client_id: row.get(2)?,
                        scope: row.get(3)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    /// Stores a new device code (and purges long-expired ones). Returns `false`, storing
    /// nothing, when the user code is taken by a live code: draw another.
    pub async fn insert_device_code(
        &self,
        new: NewDeviceCode,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM device_codes WHERE expires_at_ms < ?1",
                params![now_ms - KEEP_EXPIRED_MS],
            )?;
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM device_codes WHERE user_code = ?1)",
                params![new.user_code],
                |row| row.get(0),
            )?;
            if taken {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO device_codes (device_code_sha256, user_code, tenant_id, client_id,
                     scope, interval_s, expires_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    new.device_code_sha256,
                    new.user_code,
                    new.tenant_id.as_ref().map(TenantId::as_str),
                    new.client_id,
                    new.scope,
                    new.interval_s,
                    new.expires_at_ms,
                ],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    /// The device code with this user code (normalized), whatever its state.
    pub async fn device_code_by_user_code(
        &self,
        user_code: &str,
    ) -> Result<Option<DeviceCode>, StoreError> {
        let user_code = user_code.to_owned();
        self.with_conn(move |conn| select_device_code(conn, &user_code))
            .await
    }

    /// Records the user's answer for a pending device code; [`Redemption::AlreadyRedeemed`]
    /// means it was answered already.
    pub async fn decide_device_code(
        &self,
        user_code: &str,
        decision: DeviceDecision,
        now_ms: i64,
    ) -> Result<Redemption<DeviceCode, Infallible>, StoreError> {
        let user_code = user_code.to_owned();
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some(code) = select_device_code(&tx, &user_code)? else {
                return Ok(Redemption::Unknown);
            };
            if code.status != DeviceStatus::Pending {
                return Ok(Redemption::AlreadyRedeemed);
            }
            if now_ms >= code.expires_at_ms {
                return Ok(Redemption::Expired);
            }
            let (status, user_oid) = match decision {
                DeviceDecision::Approve { user_oid } => ("approved", Some(user_oid)),
                DeviceDecision::Deny => ("denied", None),
            };
            tx.execute(
                "UPDATE device_codes SET status = ?2, user_oid = ?3 WHERE user_code = ?1",
                params![user_code, status, user_oid],
            )?;
            tx.commit()?;
            Ok(Redemption::Redeemed(code))
        })
        .await
    }

    /// Polls a device code, as the token endpoint does (RFC 8628 section 3.5): polling a pending
    /// code again sooner than its interval answers [`DevicePoll::SlowDown`] and adds 5 s to the
    /// interval. An approved code is redeemed by the poll that sees it.
    pub async fn poll_device_code<E, F>(
        &self,
        device_code_sha256: &str,
        now_ms: i64,
        check: F,
    ) -> Result<DevicePoll<E>, StoreError>
    where
        E: Send + 'static,
        F: FnOnce(&DeviceCode) -> Result<(), E> + Send + 'static,
    {
        let hash = device_code_sha256.to_owned();
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found = tx
                .prepare_cached(&format!(
                    "{DEVICE_COLUMNS}, interval_s, last_poll_at_ms
                     FROM device_codes WHERE device_code_sha256 = ?1"
                ))?
                .query_row(params![hash], |row| {
                    Ok((device_code_row(row)?, row.get::<_, i64>(7)?, row.get(8)?))
                })
                .optional()?;
            let Some((code, interval_s, last_poll_at_ms)) = found else {
                return Ok(DevicePoll::Unknown);
            };
            let last_poll_at_ms: Option<i64> = last_poll_at_ms;
            if let Err(error) = check(&code) {
                return Ok(DevicePoll::Rejected(error));
            }
            if code.status == DeviceStatus::Redeemed {
                return Ok(DevicePoll::AlreadyRedeemed);
            }
            if now_ms >= code.expires_at_ms {
                return Ok(DevicePoll::Expired);
            }
            let outcome = match (code.status, code.user_oid) {
                (DeviceStatus::Denied, _) => DevicePoll::Denied,
                (DeviceStatus::Approved, Some(user_oid)) => {
                    tx.execute(
                        "UPDATE device_codes SET status = 'redeemed' WHERE device_code_sha256 = ?1",
                        params![hash],
                    )?;
                    let tenant_id: String = tx.query_row(
                        "SELECT tenant_id FROM users WHERE oid = ?1",
                        params![user_oid],
                        |row| row.get(0),
                    )?;
                    DevicePoll::Approved {
                        tenant_id: TenantId::new(tenant_id),
                        user_oid,
                        scope: code.scope,
                    }
                }
                _ => {
                    let too_soon = last_poll_at_ms
                        .is_some_and(|last| now_ms.saturating_sub(last) < interval_s * 1000);
                    let interval_s = if too_soon { interval_s + 5 } else { interval_s };
                    tx.execute(
                        "UPDATE device_codes SET interval_s = ?2, last_poll_at_ms = ?3
                         WHERE device_code_sha256 = ?1",
                        params![hash, interval_s, now_ms],
                    )?;
                    if too_soon {
                        DevicePoll::SlowDown
                    } else {
                        DevicePoll::Pending
                    }
                }
            };
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }
}

/// The columns [`device_code_row`] reads.
const DEVICE_COLUMNS: &str =
    "SELECT user_code, tenant_id, client_id, scope, expires_at_ms, status, user_oid";

fn select_device_code(
    conn: &Connection,
    user_code: &str,
) -> Result<Option<DeviceCode>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "{DEVICE_COLUMNS} FROM device_codes WHERE user_code = ?1"
        ))?
        .query_row(params![user_code], device_code_row)
        .optional()?)
}

fn device_code_row(row: &Row<'_>) -> rusqlite::Result<DeviceCode> {
    let tenant_id: Option<String> = row.get(1)?;
    let status: String = row.get(5)?;
    let status = match status.as_str() {
        "approved" => DeviceStatus::Approved,
        "denied" => DeviceStatus::Denied,
        "redeemed" => DeviceStatus::Redeemed,
        _ => DeviceStatus::Pending,
    };
    Ok(DeviceCode {
        user_code: row.get(0)?,
        tenant_id: tenant_id.map(TenantId::new),
        client_id: row.get(2)?,
        scope: row.get(3)?,
        expires_at_ms: row.get(4)?,
        status,
        user_oid: row.get(6)?,
    })
}

fn insert_refresh_token(conn: &Connection, new: &NewRefreshToken) -> Result<(), StoreError> {
    let grant = &new.grant;
    conn.prepare_cached(
        "INSERT INTO refresh_tokens (token_sha256, tenant_id, user_oid, client_id, scope,
             expires_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        new.token_sha256,
        grant.tenant_id.as_str(),
        grant.user_oid,
        grant.client_id,
        grant.scope,
        new.expires_at_ms,
    ])?;
    Ok(())
}
