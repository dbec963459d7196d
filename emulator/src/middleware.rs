//! Middleware every request goes through: correlation ids and bearer tokens.

use std::time::Instant;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use uuid::Uuid;

use crate::error::ApiError;
use crate::model::TenantId;
use crate::seed::DEFAULT_TENANT_ID;

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

fn new_correlation_id() -> HeaderValue {
    let id = Uuid::new_v4().hyphenated().to_string();
    // A hyphenated GUID is plain ASCII, so this never falls back.
    HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static(""))
}

/// Refuses a request without `Authorization: Bearer <token>` (401); otherwise records the
/// request's tenant as a [`TenantId`] extension.
///
/// The token is not validated yet, and every request is served as the default tenant.
pub async fn require_bearer(mut request: Request, next: Next) -> Result<Response, ApiError> {
    if bearer_token(request.headers()).is_none() {
        return Err(ApiError::Unauthorized(
            "The request needs an Authorization header with a bearer token.".to_owned(),
        ));
    }
    request
        .extensions_mut()
        .insert(TenantId::new(DEFAULT_TENANT_ID));
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
