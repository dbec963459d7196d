//! The knobs a test turns at run time.
//!
//! - `GET /admin/faults`: the [`FaultStatus`]: the configuration in effect (every knob, `null`
//!   when off; the seed in use; each `next` the count left) and `injected`, what the knobs did.
//! - `PUT /admin/faults` with a [`FaultConfig`]: replaces the whole configuration (absent knobs are
//!   off) and resets the counters and the generator; answers the new status. A knob that makes no
//!   sense is a 400 and changes nothing.
//! - `DELETE /admin/faults`: turns every knob off; answers the new status.
//! - `GET /admin/requests`: the [`RequestCountsBody`], `{"total","untracked","requests":
//!   {"PUT /v1.0/policies/P/products/X": n, ...}}`: every licensing request since the start or
//!   the last `DELETE`, by method and path (as sent, without the query: a `/v1/...` request
//!   counts under its own key), faulted ones included.
//! - `DELETE /admin/requests`: forgets the counts; answers the (empty) counts.
//! - `GET /admin/settings`: `{"tokenLifetimeSeconds","deviceCodeIntervalSeconds",
//!   "deviceCodeLifetimeSeconds"[,"appTokenLifetimeSeconds"]}` (the last once set: until then
//!   app-only tokens live `tokenLifetimeSeconds`).
//! - `PUT /admin/settings` with any of those: changes them for what is issued from then on;
//!   answers all of them.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::json_body;
use crate::error::ApiError;
use crate::faults::{FaultConfig, FaultStatus};
use crate::request_counts::RequestCountsBody;
use crate::settings::Settings;
use crate::AppState;

/// `GET /admin/faults`.
pub async fn get_faults(State(state): State<AppState>) -> Json<FaultStatus> {
    Json(state.faults().status())
}

/// `PUT /admin/faults`.
pub async fn put_faults(
    State(state): State<AppState>,
    body: Result<Json<FaultConfig>, JsonRejection>,
) -> Result<Json<FaultStatus>, ApiError> {
    let config = json_body(
        body,
        "a fault configuration such as {\"errors\": {\"status\": 503, \"next\": 2}}",
    )?;
    let status = state
        .faults()
        .set(config)
        .map_err(|error| ApiError::BadRequest(error.to_string()))?;
    tracing::info!(faults = ?status.config, "faults set");
    Ok(Json(status))
}

/// `DELETE /admin/faults`.
pub async fn clear_faults(State(state): State<AppState>) -> Json<FaultStatus> {
    tracing::info!("faults cleared");
    Json(state.faults().clear())
}

/// `GET /admin/requests`.
pub async fn get_requests(State(state): State<AppState>) -> Json<RequestCountsBody> {
    Json(state.requests().snapshot())
}

/// `DELETE /admin/requests`.
pub async fn clear_requests(State(state): State<AppState>) -> Json<RequestCountsBody> {
    tracing::info!("request counts cleared");
    Json(state.requests().clear())
}

/// The authority's lifetimes on the wire; in a `PUT`, the absent ones are left as they are.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsBody {
    /// Access (and ID) token lifetime, in seconds.
    pub token_lifetime_seconds: Option<u32>,
    /// The device flow's polling interval, in seconds.
    pub device_code_interval_seconds: Option<u32>,
    /// The device code lifetime, in seconds.
    pub device_code_lifetime_seconds: Option<u32>,
    /// App-only token lifetime, in seconds; absent (in an answer) while it follows
    /// `tokenLifetimeSeconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_token_lifetime_seconds: Option<u32>,
}

impl From<Settings> for SettingsBody {
    fn from(settings: Settings) -> Self {
        Self {
            token_lifetime_seconds: Some(settings.token_lifetime_s),
            device_code_interval_seconds: Some(settings.device_code_interval_s),
            device_code_lifetime_seconds: Some(settings.device_code_lifetime_s),
            app_token_lifetime_seconds: settings.app_token_lifetime_s,
        }
    }
}

/// `GET /admin/settings`.
pub async fn get_settings(State(state): State<AppState>) -> Json<SettingsBody> {
    Json(state.settings().into())
}

/// `PUT /admin/settings`.
pub async fn put_settings(
    State(state): State<AppState>,
    body: Result<Json<SettingsBody>, JsonRejection>,
) -> Result<Json<SettingsBody>, ApiError> {
    let change = json_body(body, "{\"tokenLifetimeSeconds\": <seconds>}")?;
    let settings = state.update_settings(|settings| {
        if let Some(seconds) = change.token_lifetime_seconds {
            settings.token_lifetime_s = seconds;
        }
        if let Some(seconds) = change.device_code_interval_seconds {
            settings.device_code_interval_s = seconds;
        }
        if let Some(seconds) = change.device_code_lifetime_seconds {
            settings.device_code_lifetime_s = seconds;
        }
        if let Some(seconds) = change.app_token_lifetime_seconds {
            settings.app_token_lifetime_s = Some(seconds);
        }
    });
    tracing::info!(?settings, "settings changed");
    Ok(Json(settings.into()))
}
