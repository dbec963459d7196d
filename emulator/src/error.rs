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
            | Self::NotFound(reason) => reason.clone(),
            Self::NoRoute { method, path } => {
                format!("No resource matches {method} {path}.")
            }
            Self::MethodNotAllowed(method) => {
                format!("The method {method} is not allowed for this resource.")
            }
            Self::Store(_) | Self::Internal(_) => {
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
        response
    }
}
