//! Middleware: correlation ids (every request) and bearer tokens (the licensing API).

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use uuid::Uuid;

use crate::error::ApiError;
use crate::model::{Role, TenantId};
use crate::tokens::{self, TokenRejection};
use crate::AppState;

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

/// Who is calling the licensing API: the signed-in user of a valid token, recorded as a request
/// extension (with the [`TenantId`] the request acts on) by [`require_user`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user's tenant (the token's `tid`).
    pub tenant: TenantId,
    /// The user's UPN.
    pub upn: String,
    /// The user's object id.
    pub oid: String,
    /// The user's directory roles that matter to the service.
    pub roles: Vec<Role>,
}

impl Caller {
    /// Refuses (403) a caller who may not change policies (a Global Reader).
    pub fn require_write(&self) -> Result<(), ApiError> {
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
}

/// Lets through only requests with a valid bearer token of a user who may read policies:
/// no token or an invalid one is a 401 (expired, not signed by the emulator's key, another
/// audience, an unknown issuer or tenant); an app-only token, or a user without the Global
/// Administrator, Billing Administrator or Global Reader role, a 403. Records the [`Caller`] and
/// its [`TenantId`] as request extensions. The token itself is never logged.
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
    if claims.is_app_only() {
        return Err(ApiError::Forbidden(
            "App-only tokens are not supported: sign in as a user.".to_owned(),
        ));
    }
    let roles = claims.directory_roles();
    if roles.is_empty() {
        return Err(ApiError::Forbidden(
            "The signed-in user has none of the roles that may manage self-service purchases \
             (Global Administrator, Billing Administrator, Global Reader)."
                .to_owned(),
        ));
    }
    let caller = Caller {
        tenant: tenant.id.clone(),
        upn: claims.upn.unwrap_or_default(),
        oid: claims.oid,
        roles,
    };
    tracing::debug!(tenant = %caller.tenant, upn = %caller.upn, "authenticated");
    request.extensions_mut().insert(tenant.id);
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
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
