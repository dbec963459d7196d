//! `GET /openapi.json`: the OpenAPI 3 document of the licensing API, kept in the repository as
//! `emulator/openapi.json` and served as it is.

use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;

/// The document, as the repository holds it.
pub const DOCUMENT: &str = include_str!("../../openapi.json");

/// `GET /openapi.json` (no token needed).
pub async fn document() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        DOCUMENT,
    )
}
