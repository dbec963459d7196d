//! Middleware: correlation ids (every request) and bearer tokens (the licensing API).

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use uuid::Uuid;

use crate::error::ApiError;
use crate::model::{AppPermission, Role, TenantAccess, TenantId};
use crate::tokens::{self, TokenRejection, RESOURCE_APP_ID, RESOURCE_DISPLAY_NAME};
use crate::{clock, AppState};

/// The header that carries a request's correlation id, in both directions.
pub const CORRELATION_ID: HeaderName = HeaderName::from_static("x-ms-correlation-id");

/// Echoes the request's `x-ms-correlation-id` on the response (or a new GUID when the request
/// has none) and logs the request under it.
pub async fn correlation_id(mut request: Request, next: Next) -> Response {
    let id = match request.headers().get(&CORRELATION_ID) {
        Some(id) => id.clone(),
        None => {
            let id = new_correlation_id();
            request.headers_mut().insert(CORRELATION_ID, id.clone());
            id
        }
    };
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        correlation_id = id.to_str().unwrap_or("(not text)"),
    );
    async move {
        let started = Instant::now();
        let mut response = next.run(request).await;
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis(),
            "served"
        );
        response.headers_mut().insert(CORRELATION_ID, id);
        response
    }
    .instrument(span)
    .await
}

/// The request's correlation id as text (set on every request by [`correlation_id`]).
pub fn correlation_id_of(headers: &HeaderMap) -> String {
    headers
        .get(&CORRELATION_ID)
        .and_then(|id| id.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn new_correlation_id() -> HeaderValue {
    let id = Uuid::new_v4().hyphenated().to_string();
    // A hyphenated GUID is plain ASCII, so this never falls back.
    HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static(""))
}

/// Who is calling the licensing API, recorded as a request extension (with the [`TenantId`] the
/// request acts on) by [`require_user`]: the signed-in user of a delegated token, or the app of an
/// app-only token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's tenant (`tid`).
    pub tenant: TenantId,
    /// The user's UPN, or the app's display name for an app-only token.
    pub upn: String,
    /// The user's object id, or the app's service principal's.
    pub oid: String,
    /// The user's directory roles that matter to the service (none for an app).
    pub roles: Vec<Role>,
    /// The app of an app-only token; `None` for a user.
    pub app: Option<AppCaller>,
}

/// The app behind an app-only token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCaller {
    /// The app id (`appid`).
    pub app_id: String,
    /// The application permissions of the licensing service in the token's `roles`.
    pub permissions: Vec<AppPermission>,
}

impl Caller {
    /// Refuses (403) a caller who may not change policies: a Global Reader, or an app without
    /// `Policy.ReadWrite.AllowSelfServicePurchase`.
    pub fn require_write(&self) -> Result<(), ApiError> {
        if let Some(app) = &self.app {
            return if app.permissions.iter().any(|p| p.can_write()) {
                Ok(())
            } else {
                Err(missing_permission(
                    &app.app_id,
                    AppPermission::ReadWrite.name(),
                ))
            };
        }
        if self.roles.iter().any(|role| role.can_write()) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "The signed-in user may only read policies: changing them needs the Global \
                 Administrator or Billing Administrator role."
                    .to_owned(),
            ))
        }
    }

    /// The app id of an app-only caller.
    pub fn app_id(&self) -> Option<&str> {
        self.app.as_ref().map(|app| app.app_id.as_str())
    }
}

/// The 403 of an app-only token without the permission a request needs.
fn missing_permission(app_id: &str, permission: &str) -> ApiError {
    ApiError::Forbidden(format!(
        "The application {app_id} has no permission {permission} of {RESOURCE_DISPLAY_NAME} \
         ({RESOURCE_APP_ID}) in this tenant: grant the application permission and have an \
         administrator consent to it."
    ))
}

/// Lets through only requests with a valid bearer token of a user who may read policies, or of
/// an app granted one of the service's application permissions: no token or an invalid one is a
/// 401 (expired, not signed by the emulator's key, another audience, an unknown issuer or
/// tenant); a user without the Global Administrator, Billing Administrator or Global Reader role,
/// or an app-only token without `Policy.Read.AllowSelfServicePurchase` or
/// `Policy.ReadWrite.AllowSelfServicePurchase`, a 403. A partner user's token for a customer
/// tenant (with `idp`) gets the roles of the partner's active delegated admin relationships at
/// this moment, not the token's `wids`; none is a 403. Records the [`Caller`] and its
/// [`TenantId`] as request extensions. The token itself is never logged.
pub async fn require_user(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(token) = bearer_token(request.headers()) else {
        return Err(ApiError::Unauthorized(
            "The request needs an Authorization header with a bearer token.".to_owned(),
        ));
    };
    let claims = tokens::validate(state.key(), token)
        .map_err(|rejection| ApiError::InvalidToken(rejection.to_string()))?;
    let tenant = state
        .store()
        .find_tenant(&claims.tid)
        .await?
        .filter(|tenant| tenant.id.as_str().eq_ignore_ascii_case(&claims.tid))
        .ok_or_else(|| ApiError::InvalidToken(TokenRejection::UnknownTenant.to_string()))?;
    let caller = if claims.is_app_only() {
        let permissions = claims.app_permissions();
        if permissions.is_empty() {
            let needed = format!(
                "{} or {}",
                AppPermission::Read.name(),
                AppPermission::ReadWrite.name()
            );
            let needed = if request.method() == Method::GET {
                needed
            } else {
                AppPermission::ReadWrite.name().to_owned()
            };
            return Err(missing_permission(&claims.appid, &needed));
        }
        // The app's display name as the directory knows it now, for the audit log.
        let name = match state.store().app_registration(&claims.appid).await? {
            Some(app) => app.display_name,
            None => claims.appid.clone(),
        };
        Caller {
            tenant: tenant.id.clone(),
            upn: name,
            oid: claims.oid,
            roles: Vec::new(),
            app: Some(AppCaller {
                app_id: claims.appid,
                permissions,
            }),
        }
    } else {
        let roles = match claims.idp {
            // A partner user in a customer tenant: the relationships decide at every call, so
            // one that expired or was removed since the token was issued takes effect at once.
            Some(_) => delegated_roles(&state, &claims.oid, &tenant.id).await?,
            None => claims.directory_roles(),
        };
        if roles.is_empty() {
            return Err(ApiError::Forbidden(
                "The signed-in user has none of the roles that may manage self-service purchases \
                 (Global Administrator, Billing Administrator, Global Reader)."
                    .to_owned(),
            ));
        }
        Caller {
            tenant: tenant.id.clone(),
            upn: claims.upn.unwrap_or_default(),
            oid: claims.oid,
            roles,
            app: None,
        }
    };
    tracing::debug!(tenant = %caller.tenant, caller = %caller.upn, app = ?caller.app_id(), "authenticated");
    request.extensions_mut().insert(tenant.id);
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

/// The roles a user of another tenant (`idp` set) holds in `tenant` now: those of the active
/// delegated admin relationships assigning them; a 403 when there are none (expired, removed,
/// or the user is gone).
async fn delegated_roles(
    state: &AppState,
    oid: &str,
    tenant: &TenantId,
) -> Result<Vec<Role>, ApiError> {
    match state
        .store()
        .tenant_access(oid, tenant, clock::now_ms())
        .await?
    {
        Some(TenantAccess::Delegated(roles) | TenantAccess::Member(roles)) => Ok(roles),
        Some(TenantAccess::None { expired: true }) => Err(ApiError::Forbidden(
            "The delegated admin relationship that gave the signed-in user a role in this \
             tenant has expired: the partner must renew it."
                .to_owned(),
        )),
        Some(TenantAccess::None { expired: false }) | None => Err(ApiError::Forbidden(
            "The signed-in user has no role in this tenant: no active delegated admin \
             relationship of the user's partner tenant assigns them one."
                .to_owned(),
        )),
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case), when
/// present and not empty.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(value: &str) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        bearer_token(&headers).map(str::to_owned)
    }

    #[test]
    fn bearer_token_needs_the_scheme_and_a_token() {
        assert_eq!(token("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(token("bearer  abc ").as_deref(), Some("abc"));
        assert_eq!(token("Bearer"), None);
        assert_eq!(token("Bearer   "), None);
        assert_eq!(token("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
