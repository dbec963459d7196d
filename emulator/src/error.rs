//! The one error type of the HTTP API, and how it turns into a response.
//!
//! Every error body is `{"errorCode": "...", "reason": "..."}`, the shape the real service uses.
//! Internal failures are logged in full and answered with a generic reason: nothing about the
//! emulator's internals reaches a client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::store::StoreError;

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No bearer token (401, with `WWW-Authenticate: Bearer`).
    #[error("{0}")]
    Unauthorized(String),
    /// A bearer token that is not valid (401, with `WWW-Authenticate: Bearer
    /// error="invalid_token", error_description="..."`).
    #[error("{0}")]
    InvalidToken(String),
    /// A valid token whose caller may not do this (403, `Forbidden`).
    #[error("{0}")]
    Forbidden(String),
    /// The request is malformed (400, `BadRequest`).
    #[error("{0}")]
    BadRequest(String),
    /// The policy, product or offer type does not exist (404, `Unknown`, as the service says).
    #[error("{0}")]
    NotFound(String),
    /// No route matches the path (404, `NotFound`).
    #[error("no route for {method} {path}")]
    NoRoute {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
    },
    /// The route exists but not for this method (405, `MethodNotAllowed`).
    #[error("method {0} is not allowed here")]
    MethodNotAllowed(String),
    /// Throttled by the `throttle` knob (429, `TooManyRequests`, with `Retry-After`).
    #[error("throttled; retry after {retry_after_s} s")]
    TooManyRequests {
        /// The `Retry-After` value, in seconds.
        retry_after_s: u32,
    },
    /// A server error injected by the `errors` knob (its status; `Retry-After` when given).
    #[error("injected {status}")]
    Injected {
        /// 500, 502, 503 or 504.
        status: StatusCode,
        /// The `Retry-After` value, in seconds.
        retry_after_s: Option<u32>,
    },
    /// An error injected by the `failItems` knob for one product or offer type (its status, a
    /// reason naming the item).
    #[error("injected {status}: {reason}")]
    InjectedItem {
        /// One of `faults::FAIL_ITEM_STATUSES`.
        status: StatusCode,
        /// The reason, naming the item.
        reason: String,
    },
    /// The store failed (500, `InternalServerError`); the details are logged, never sent.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something else failed (500, `InternalServerError`); the details are logged, never sent.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) | Self::NoRoute { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Injected { status, .. } | Self::InjectedItem { status, .. } => *status,
            Self::Store(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `errorCode` of the body.
    pub fn error_code(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) | Self::InvalidToken(_) => "Unauthorized",
            Self::Forbidden(_) => "Forbidden",
            Self::BadRequest(_) => "BadRequest",
            Self::NotFound(_) => "Unknown",
            Self::NoRoute { .. } => "NotFound",
            Self::MethodNotAllowed(_) => "MethodNotAllowed",
            Self::TooManyRequests { .. } => "TooManyRequests",
            Self::Injected { status, .. } => match status.as_u16() {
                502 => "BadGateway",
                503 => "ServiceUnavailable",
                504 => "GatewayTimeout",
                _ => "InternalServerError",
            },
            Self::InjectedItem { status, .. } => match status.as_u16() {
                400 => "BadRequest",
                403 => "Forbidden",
                404 => "Unknown",
                409 => "Conflict",
                502 => "BadGateway",
                503 => "ServiceUnavailable",
                504 => "GatewayTimeout",
                _ => "InternalServerError",
            },
            Self::Store(_) | Self::Internal(_) => "InternalServerError",
        }
    }

    /// The `reason` of the body.
    fn reason(&self) -> String {
        match self {
            Self::Unauthorized(reason)
            | Self::InvalidToken(reason)
            | Self::Forbidden(reason)
            | Self::BadRequest(reason)
            | Self::NotFound(reason)
            | Self::InjectedItem { reason, .. } => reason.clone(),
            Self::NoRoute { method, path } => {
                format!("No resource matches {method} {path}.")
            }
            Self::MethodNotAllowed(method) => {
                format!("The method {method} is not allowed for this resource.")
            }
            Self::TooManyRequests { retry_after_s } => {
                format!("Too many requests. Retry after {retry_after_s} seconds.")
            }
            Self::Injected { status, .. } if *status == StatusCode::SERVICE_UNAVAILABLE => {
                "The service is temporarily unavailable. Try again later.".to_owned()
            }
            Self::Injected { .. } | Self::Store(_) | Self::Internal(_) => {
                "The service could not process the request.".to_owned()
            }
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    error_code: &'static str,
    reason: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Store(error) => tracing::error!(error = %error, "request failed in the store"),
            Self::Internal(error) => tracing::error!(error = %error, "request failed"),
            _ => {}
        }
        let body = ErrorBody {
            error_code: self.error_code(),
            reason: self.reason(),
        };
        let mut response = (self.status(), Json(body)).into_response();
        let challenge = match &self {
            // RFC 6750 section 3.1: no error code when the request had no credentials.
            Self::Unauthorized(_) => Some(HeaderValue::from_static("Bearer")),
            Self::InvalidToken(reason) => Some(
                HeaderValue::from_str(&format!(
                    r#"Bearer error="invalid_token", error_description="{}""#,
                    reason.replace(['"', '\\'], "'")
                ))
                .unwrap_or(HeaderValue::from_static(r#"Bearer error="invalid_token""#)),
            ),
            _ => None,
        };
        if let Some(challenge) = challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        let retry_after = match &self {
            Self::TooManyRequests { retry_after_s } => Some(*retry_after_s),
            Self::Injected { retry_after_s, .. } => *retry_after_s,
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
