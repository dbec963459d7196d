//! The token endpoint: `authorization_code` (with the PKCE verifier), the device code grant,
//! `refresh_token` (rotated: each refresh token works once) and `client_credentials` (app-only,
//! for an app consented in the tenant; the client authenticates as [`client_auth`] checks).
//!
//! A refresh token is multi-tenant, as Entra's: redeemed at `/{customer}/...` it gives tokens for
//! that tenant when the user's partner tenant has an active delegated admin relationship with it
//! that assigns the user roles (`wids` are those roles, `idp` the user's home tenant). Without
//! one the answer is `invalid_grant` with AADSTS50020 (the account cannot access the tenant) and
//! the refresh token stays usable: a client must not take it for an expired sign-in
//! (AADSTS700082, 50173) and ask the user to sign in again.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::client_auth::{self, ClientCredentials};
use super::{no_store, OAuthError, Scopes, TenantScope};
use crate::model::{AppRegistration, Role, Tenant, TenantAccess, TenantId, User};
use crate::store::{DevicePoll, NewRefreshToken, Redemption, RefreshGrant};
use crate::tokens::{AccessClaims, IdClaims, RESOURCE_APP_ID};
use crate::{apps, clock, secrets, AppState};

/// The grant type of the device code flow.
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The form of a token request; which fields matter depends on `grant_type`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
    scope: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    device_code: Option<String>,
    refresh_token: Option<String>,
    client_info: Option<String>,
}

/// A successful token response.
#[derive(Debug, Serialize)]
struct TokenResponse {
    token_type: &'static str,
    scope: String,
    expires_in: u32,
    ext_expires_in: u32,
    access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_info: Option<String>,
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub(super) async fn token(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    match grant(&state, &segment, &headers, form).await {
        Ok(response) => no_store(Json(response).into_response()),
        Err(error) => {
            tracing::info!(
                error = error.error,
                code = error.code,
                "token request refused"
            );
            error.into_response_for(&headers)
        }
    }
}

/// A non-empty form field, or `invalid_request` naming it.
fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, OAuthError> {
    value
        .as_deref()
        .filter(|value| !value.is_empty())
        .ok_or_else(|| OAuthError::missing(name))
}

async fn grant(
    state: &AppState,
    segment: &str,
    headers: &HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Result<TokenResponse, OAuthError> {
    let Ok(Form(form)) = form else {
        return Err(OAuthError::new(
            "invalid_request",
            900_144,
            "The request body must be form-encoded (application/x-www-form-urlencoded) with \
             each parameter once.",
        ));
    };
    let store = state.store();
    let scope = TenantScope::resolve(store, segment)
        .await?
        .ok_or_else(|| OAuthError::unknown_tenant(segment))?;
    let grant_type = required(&form.grant_type, "grant_type")?;
    if ![
        "authorization_code",
        DEVICE_CODE_GRANT,
        "refresh_token",
        "client_credentials",
    ]
    .contains(&grant_type)
    {
        return Err(OAuthError::new(
            "unsupported_grant_type",
            70_003,
            format!("The app requested an unsupported grant type '{grant_type}'."),
        ));
    }
    // What a client sends as its credential is a secret too: the test run's scan looks for each
    // assertion (a client's own, signed with its certificate) in all output.
    if let Some(assertion) = form.client_assertion.as_deref() {
        crate::secrets::journal(assertion);
    }
    let credentials = ClientCredentials {
        client_id: form.client_id.as_deref(),
        client_secret: form.client_secret.as_deref(),
        assertion_type: form.client_assertion_type.as_deref(),
        assertion: form.client_assertion.as_deref(),
    };
    let client = client_auth::authenticate(state, &scope, credentials, headers).await?;
    match grant_type {
        "authorization_code" => authorization_code(state, &scope, &client, &form).await,
        DEVICE_CODE_GRANT => device_code(state, &scope, &client, &form).await,
        "refresh_token" => refresh_token(state, &scope, &client, &form).await,
        _ => client_credentials(state, &scope, &client, &form).await,
    }
}

/// Why a grant does not belong to this request.
fn check_grant(
    scope: &TenantScope,
    client: &AppRegistration,
    client_id: &str,
    tenant: Option<&TenantId>,
) -> Result<(), OAuthError> {
    if !client.client_id.eq_ignore_ascii_case(client_id) {
        return Err(OAuthError::invalid_grant(
            700_005,
            "The grant was issued to another application.",
        ));
    }
    let admitted = match tenant {
        Some(tenant) => scope.admits(tenant),
        None => true,
    };
    if !admitted {
        return Err(OAuthError::invalid_grant(
            700_005,
            "The grant was issued for another tenant.",
        ));
    }
    Ok(())
}

async fn authorization_code(
    state: &AppState,
    scope: &TenantScope,
    client: &AppRegistration,
    form: &TokenForm,
) -> Result<TokenResponse, OAuthError> {
    let code = required(&form.code, "code")?;
    let redirect_uri = required(&form.redirect_uri, "redirect_uri")?.to_owned();
    let verifier = required(&form.code_verifier, "code_verifier")?;
    let challenge = secrets::s256_challenge(verifier);
    let (scope, client_copy) = (scope.clone(), client.clone());
    let outcome = state
        .store()
        .redeem_auth_code(&secrets::sha256_hex(code), clock::now_ms(), move |grant| {
            check_grant(
                &scope,
                &client_copy,
                &grant.client_id,
                Some(&grant.tenant_id),
            )?;
            if grant.redirect_uri != redirect_uri {
                return Err(OAuthError::invalid_grant(
                    500_117,
                    "The redirect_uri does not match the one of the authorization request.",
                ));
            }
            if !secrets::constant_time_eq(&grant.code_challenge, &challenge) {
                return Err(OAuthError::invalid_grant(
                    501_481,
                    "The code_verifier does not match the code_challenge supplied in the \
                     authorization request.",
                ));
            }
            Ok(())
        })
        .await?;
    let grant =
        match outcome {
            Redemption::Redeemed(grant) => grant,
            Redemption::Rejected(error) => return Err(error),
            Redemption::Unknown => {
                return Err(OAuthError::invalid_grant(
                    9_002_313,
                    "The provided authorization code is invalid.",
                ))
            }
            Redemption::AlreadyRedeemed => return Err(OAuthError::invalid_grant(
                54_005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid \
                 code or use an existing refresh token.",
            )),
            Redemption::Expired => {
                return Err(OAuthError::invalid_grant(
                    70_008,
                    "The provided authorization code has expired.",
                ))
            }
        };
    let user = signed_in_user(state, &grant.user_oid).await?;
    let scopes = stored_scopes(&grant.scope)?;
    let refresh = new_refresh_token(state, scopes, &user, &client.client_id).await?;
    user_tokens(
        state,
        &user,
        Place::home(&user),
        client,
        scopes,
        grant.nonce,
        refresh,
        form,
    )
}

async fn device_code(
    state: &AppState,
    scope: &TenantScope,
    client: &AppRegistration,
    form: &TokenForm,
) -> Result<TokenResponse, OAuthError> {
    let device_code = required(&form.device_code, "device_code")?;
    let (scope, client_copy) = (scope.clone(), client.clone());
    let outcome = state
        .store()
        .poll_device_code(
            &secrets::sha256_hex(device_code),
            clock::now_ms(),
            move |code| {
                check_grant(
                    &scope,
                    &client_copy,
                    &code.client_id,
                    code.tenant_id.as_ref(),
                )
            },
        )
        .await?;
    let (user_oid, granted) = match outcome {
        DevicePoll::Approved {
            user_oid, scope, ..
        } => (user_oid, scope),
        DevicePoll::Rejected(error) => return Err(error),
        DevicePoll::Pending => {
            return Err(OAuthError::new(
                "authorization_pending",
                70_016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            ))
        }
        DevicePoll::SlowDown => {
            return Err(OAuthError::new(
                "slow_down",
                70_016,
                "Polling too frequently: wait 5 seconds longer between polls.",
            ))
        }
        DevicePoll::Expired => {
            return Err(OAuthError::new(
                "expired_token",
                70_020,
                "The provided value for the input parameter 'device_code' is not valid. This \
                 device code has expired.",
            ))
        }
        DevicePoll::Denied => {
            return Err(OAuthError::new(
                "access_denied",
                65_004,
                "User declined to consent to access the app.",
            ))
        }
        DevicePoll::AlreadyRedeemed => {
            return Err(OAuthError::invalid_grant(
                54_005,
                "The device code was already redeemed.",
            ))
        }
        DevicePoll::Unknown => {
            return Err(OAuthError::invalid_grant(
                70_000,
                "The provided value for the input parameter 'device_code' is not valid.",
            ))
        }
    };
    let user = signed_in_user(state, &user_oid).await?;
    let scopes = stored_scopes(&granted)?;
    let refresh = new_refresh_token(state, scopes, &user, &client.client_id).await?;
    user_tokens(
        state,
        &user,
        Place::home(&user),
        client,
        scopes,
        None,
        refresh,
        form,
    )
}

async fn refresh_token(
    state: &AppState,
    scope: &TenantScope,
    client: &AppRegistration,
    form: &TokenForm,
) -> Result<TokenResponse, OAuthError> {
    let old = required(&form.refresh_token, "refresh_token")?;
    if let Some(requested) = form.scope.as_deref().filter(|s| !s.trim().is_empty()) {
        Scopes::parse(requested)
            .map_err(|reason| OAuthError::new("invalid_scope", 70_011, reason))?;
    }
    let new = secrets::issue(32);
    let now = clock::now_ms();
    let expires_at_ms = now + i64::from(state.settings().refresh_token_lifetime_s) * 1000;
    // Another tenant than the user's own is decided before the token is used, so a refusal
    // leaves it usable (the client goes on with the tenants it may act in).
    let delegated = delegated_access(state, scope, old, now).await?;
    let delegated_oid = delegated.as_ref().map(|(oid, _, _)| oid.clone());
    let (scope_copy, client_copy) = (scope.clone(), client.clone());
    let outcome = state
        .store()
        .rotate_refresh_token(
            &secrets::sha256_hex(old),
            &secrets::sha256_hex(&new),
            expires_at_ms,
            now,
            move |grant: &RefreshGrant| {
                // The tenant was checked above for this very user.
                let tenant = if delegated_oid.as_deref() == Some(grant.user_oid.as_str()) {
                    None
                } else {
                    Some(&grant.tenant_id)
                };
                check_grant(&scope_copy, &client_copy, &grant.client_id, tenant)
            },
        )
        .await?;
    let grant = match outcome {
        Redemption::Redeemed(grant) => grant,
        Redemption::Rejected(error) => return Err(error),
        Redemption::Unknown => {
            return Err(OAuthError::invalid_grant(
                9_002_313,
                "The provided refresh token is invalid.",
            ))
        }
        Redemption::AlreadyRedeemed => {
            return Err(OAuthError::invalid_grant(
                70_000,
                "The refresh token was already used: each refresh token works once, use the \
                 one that came with the last token response.",
            ))
        }
        Redemption::Expired => {
            return Err(OAuthError::invalid_grant(
                700_082,
                "The refresh token has expired due to inactivity.",
            ))
        }
    };
    let user = signed_in_user(state, &grant.user_oid).await?;
    let scopes = stored_scopes(&grant.scope)?;
    let (tenant, roles) = match delegated {
        Some((oid, tenant, roles)) if oid == user.oid => (tenant, roles),
        _ => (user.tenant_id.clone(), user.roles.clone()),
    };
    let place = Place {
        tenant: &tenant,
        roles: &roles,
    };
    user_tokens(state, &user, place, client, scopes, None, Some(new), form)
}

/// When `scope` is one tenant other than the home tenant of the live refresh token `token`: the
/// user, that tenant and the roles the user's partner holds there through active delegated admin
/// relationships, or AADSTS50020 when it holds none for the user. `None` when the token is for
/// the tenant's own user, for `organizations`/`common`, or not live (rotating it says why).
async fn delegated_access(
    state: &AppState,
    scope: &TenantScope,
    token: &str,
    now_ms: i64,
) -> Result<Option<(String, TenantId, Vec<Role>)>, OAuthError> {
    let TenantScope::One(tenant) = scope else {
        return Ok(None);
    };
    let store = state.store();
    let Some(grant) = store
        .live_refresh_grant(&secrets::sha256_hex(token), now_ms)
        .await?
    else {
        return Ok(None);
    };
    if grant.tenant_id == tenant.id {
        return Ok(None);
    }
    match store
        .tenant_access(&grant.user_oid, &tenant.id, now_ms)
        .await?
    {
        Some(TenantAccess::Delegated(roles)) => {
            Ok(Some((grant.user_oid, tenant.id.clone(), roles)))
        }
        // The user was moved into the tenant, or removed: the grant decides as before.
        Some(TenantAccess::Member(_)) | None => Ok(None),
        Some(TenantAccess::None { expired }) => {
            let user = signed_in_user(state, &grant.user_oid).await?;
            let app = store
                .app_registration(&grant.client_id)
                .await?
                .map(|app| app.display_name)
                .unwrap_or_default();
            tracing::info!(
                upn = %user.upn,
                tenant = %tenant.id,
                expired,
                "no delegated admin relationship gives the user access to the tenant"
            );
            Err(no_access(&user, tenant, &grant.client_id, &app))
        }
    }
}

/// AADSTS50020: the user is not a member of the tenant and nothing (no active delegated admin
/// relationship) lets them in.
fn no_access(user: &User, tenant: &Tenant, client_id: &str, app_name: &str) -> OAuthError {
    OAuthError::invalid_grant(
        50_020,
        format!(
            "User account '{}' from identity provider '{}' does not exist in tenant '{}' and \
             cannot access the application '{client_id}'({app_name}) in that tenant. The \
             account needs to be added as an external user in the tenant first. Sign out and \
             sign in again with a different Azure Active Directory user account.",
            user.upn,
            crate::tokens::issuer(&user.tenant_id),
            tenant.name
        ),
    )
}

/// The tenant a delegated token is for, with the user's roles there.
#[derive(Debug, Clone, Copy)]
struct Place<'a> {
    tenant: &'a TenantId,
    roles: &'a [Role],
}

impl<'a> Place<'a> {
    /// The user's own tenant and directory roles.
    fn home(user: &'a User) -> Self {
        Self {
            tenant: &user.tenant_id,
            roles: &user.roles,
        }
    }
}

async fn client_credentials(
    state: &AppState,
    scope: &TenantScope,
    client: &AppRegistration,
    form: &TokenForm,
) -> Result<TokenResponse, OAuthError> {
    if client.is_public() {
        return Err(OAuthError::invalid_client(
            7_000_218,
            "The request body must contain the following parameter: 'client_assertion' or \
             'client_secret'.",
        ));
    }
    let TenantScope::One(tenant) = scope else {
        return Err(OAuthError::new(
            "invalid_request",
            900_023,
            "The client credentials flow needs a tenant: use its id or domain, not \
             'organizations' or 'common'.",
        ));
    };
    let requested = required(&form.scope, "scope")?;
    if !requested
        .trim()
        .eq_ignore_ascii_case(&format!("{RESOURCE_APP_ID}/.default"))
    {
        return Err(OAuthError::new(
            "invalid_scope",
            1_002_012,
            format!(
                "The provided value for scope '{requested}' is not valid. Client credential \
                 flows must have a scope value with /.default suffixed to the resource \
                 identifier: '{RESOURCE_APP_ID}/.default'."
            ),
        ));
    }
    let Some(principal) = apps::service_principal(state.store(), client, tenant).await? else {
        return Err(OAuthError::invalid_client(
            7_000_229,
            format!(
                "The client application {} is missing service principal in the tenant {}: an \
                 administrator of the tenant must consent to the application first.",
                client.client_id, tenant.id
            ),
        ));
    };
    let lifetime = state.settings().app_token_lifetime();
    let claims = AccessClaims::for_app(
        &tenant.id,
        client,
        &principal,
        clock::now_s(),
        i64::from(lifetime),
    );
    tracing::info!(client_id = %client.client_id, tenant = %tenant.id, "issued an app-only token");
    Ok(TokenResponse {
        token_type: "Bearer",
        scope: format!("{RESOURCE_APP_ID}/.default"),
        expires_in: lifetime,
        ext_expires_in: lifetime,
        access_token: sign(state, &claims)?,
        refresh_token: None,
        id_token: None,
        client_info: None,
    })
}

/// The user a grant was issued to (gone: the grant is void).
async fn signed_in_user(state: &AppState, oid: &str) -> Result<User, OAuthError> {
    state
        .store()
        .user_by_oid(oid)
        .await?
        .ok_or_else(|| OAuthError::invalid_grant(50_034, "The user account no longer exists."))
}

/// The scopes stored with a grant.
fn stored_scopes(scope: &str) -> Result<Scopes, OAuthError> {
    Scopes::parse(scope).map_err(|reason| {
        tracing::error!(%reason, "a stored grant has an unreadable scope");
        OAuthError::invalid_grant(70_000, "The grant is not valid.")
    })
}

/// A new refresh token for `user`, stored, when `offline_access` was granted.
async fn new_refresh_token(
    state: &AppState,
    scopes: Scopes,
    user: &User,
    client_id: &str,
) -> Result<Option<String>, OAuthError> {
    if !scopes.offline_access {
        return Ok(None);
    }
    let token = secrets::issue(32);
    let now = clock::now_ms();
    state
        .store()
        .insert_refresh_token(
            NewRefreshToken {
                token_sha256: secrets::sha256_hex(&token),
                grant: RefreshGrant {
                    tenant_id: user.tenant_id.clone(),
                    user_oid: user.oid.clone(),
                    client_id: client_id.to_owned(),
                    scope: scopes.normalized(),
                },
                expires_at_ms: now + i64::from(state.settings().refresh_token_lifetime_s) * 1000,
            },
            now,
        )
        .await?;
    Ok(Some(token))
}

/// The response of a delegated grant: an access token for `place` with the user's current roles
/// there, the refresh token, an ID token when `openid` was granted, `client_info` (the user's home
/// account) when asked for (MSAL).
#[allow(clippy::too_many_arguments)] // One call per grant type; a struct would only rename them.
fn user_tokens(
    state: &AppState,
    user: &User,
    place: Place<'_>,
    client: &AppRegistration,
    scopes: Scopes,
    nonce: Option<String>,
    refresh_token: Option<String>,
    form: &TokenForm,
) -> Result<TokenResponse, OAuthError> {
    let now = clock::now_s();
    let lifetime = state.settings().token_lifetime_s;
    let access = AccessClaims::for_user_in(
        place.tenant,
        place.roles,
        user,
        &client.client_id,
        now,
        i64::from(lifetime),
    );
    let id_token = if scopes.openid {
        let claims = IdClaims::for_user_in(
            place.tenant,
            user,
            &client.client_id,
            nonce,
            now,
            i64::from(lifetime),
        );
        Some(sign(state, &claims)?)
    } else {
        None
    };
    let client_info = (form.client_info.as_deref() == Some("1")).then(|| {
        URL_SAFE_NO_PAD.encode(
            serde_json::json!({"uid": user.oid, "utid": user.tenant_id.as_str()}).to_string(),
        )
    });
    tracing::info!(upn = %user.upn, tenant = %place.tenant, client_id = %client.client_id, "issued a user token");
    Ok(TokenResponse {
        token_type: "Bearer",
        scope: Scopes::granted(),
        expires_in: lifetime,
        ext_expires_in: lifetime,
        access_token: sign(state, &access)?,
        refresh_token,
        id_token,
        client_info,
    })
}

fn sign<T: Serialize>(state: &AppState, claims: &T) -> Result<String, OAuthError> {
    state.key().sign(claims).map_err(|error| {
        tracing::error!(%error, "cannot sign a token");
        OAuthError::internal("The service could not sign the token.")
    })
}
