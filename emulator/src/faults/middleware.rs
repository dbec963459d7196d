//! The axum middleware that applies the knobs to the licensing API (and counts its requests).

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::engine::Action;
use super::target::TargetItem;
use crate::error::ApiError;
use crate::server::ConnectionControl;
use crate::AppState;

/// The target of the injected faults' log lines: the module they came from before the split, so
/// the lines (and `RUST_LOG` filters) read as they did.
const LOG_TARGET: &str = "mscommerce_emulator::faults";

/// Middleware for the licensing API: counts each request
/// ([`RequestCounts`](crate::request_counts::RequestCounts)) and applies the
/// [`Faults`](super::engine::Faults) of the state to it.
pub async fn inject(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Inside the nest the path has lost its `/v1.0`; the original one is what clients sent.
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().path(), |OriginalUri(uri)| uri.path());
    state.requests().record(request.method(), path);
    let item = TargetItem::from_path(path);
    let decision = state.faults().decide(request.method(), item.as_ref());
    if let Some(delay) = decision.delay {
        tokio::time::sleep(delay).await;
    }
    match decision.action {
        Action::Serve => next.run(request).await,
        Action::Malformed => {
            tracing::info!(target: LOG_TARGET, "injected fault: malformed body");
            truncated(next.run(request).await).await
        }
        Action::Drop | Action::DropAfterServing => {
            tracing::info!(target: LOG_TARGET, "injected fault: dropped connection");
            match request.extensions().get::<ConnectionControl>().cloned() {
                Some(control) => {
                    if decision.action == Action::DropAfterServing {
                        let _served = next.run(request).await;
                    }
                    control.close();
                    // The connection (and this request with it) is dropped before this ends.
                    std::future::pending().await
                }
                None => ApiError::Internal(
                    "a dropped connection was asked for, but the connection is not reachable"
                        .to_owned(),
                )
                .into_response(),
            }
        }
        Action::Throttle { retry_after_s } => {
            tracing::info!(target: LOG_TARGET, retry_after_s, "injected fault: throttled");
            ApiError::TooManyRequests { retry_after_s }.into_response()
        }
        Action::Fail {
            status,
            retry_after_s,
        } => {
            tracing::info!(
                target: LOG_TARGET,
                status = status.as_u16(),
                "injected fault: server error"
            );
            ApiError::Injected {
                status,
                retry_after_s,
            }
            .into_response()
        }
        Action::FailItem { status } => {
            let reason = item.map_or_else(
                || "The item cannot be changed (injected fault)".to_owned(),
                |item| item.failure_reason(request.method()),
            );
            tracing::info!(
                target: LOG_TARGET,
                status = status.as_u16(),
                %reason,
                "injected fault: failed item"
            );
            ApiError::InjectedItem { status, reason }.into_response()
        }
    }
}

/// The response as `200` with its body cut in half, so it is not valid JSON.
async fn truncated(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes.slice(..bytes.len() / 2),
        Err(error) => {
            tracing::debug!(target: LOG_TARGET, %error, "cannot read the body to truncate");
            Default::default()
        }
    };
    parts.status = StatusCode::OK;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}
