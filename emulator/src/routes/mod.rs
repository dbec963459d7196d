//! The HTTP API, one module per area, plus the extractors and fallbacks they share.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, OriginalUri, Path, Query};
use axum::http::request::Parts;
use axum::http::Method;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub mod admin;
pub mod authority;
pub mod html;
pub mod identity;
pub mod licensing;
pub mod openapi;

/// Like axum's [`Path`], but a bad path is an [`ApiError`] (a JSON 400).
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Self(value))
            .map_err(|rejection: PathRejection| {
                tracing::debug!(%rejection, "bad path");
                ApiError::BadRequest("Invalid path.".to_owned())
            })
    }
}

/// Like axum's [`Query`], but a bad query string is an [`ApiError`] (a JSON 400).
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection: QueryRejection| {
                tracing::debug!(%rejection, "bad query string");
                ApiError::BadRequest("Invalid query string.".to_owned())
            })
    }
}

/// The fallback for paths no route matches: a JSON 404.
pub async fn no_route(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::NoRoute {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

/// The fallback for a known path with a method it does not serve: a JSON 405.
pub async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}
