//! The knobs as configured: the JSON of `PUT /admin/faults` (what the `serve` flags build too),
//! and the checks that refuse a configuration that makes no sense.

use std::fmt;
use std::str::FromStr;

use axum::http::Method;
use serde::{Deserialize, Serialize};

/// The `Retry-After` of a throttled answer when the configuration gives none.
pub const DEFAULT_RETRY_AFTER_S: u32 = 1;

/// The statuses the `errors` knob may answer.
pub const ERROR_STATUSES: [u16; 4] = [500, 502, 503, 504];

/// The statuses the `failItems` knob may answer.
pub const FAIL_ITEM_STATUSES: [u16; 8] = [400, 403, 404, 409, 500, 502, 503, 504];

/// The most ids the `failItems` knob takes.
pub const MAX_FAIL_ITEMS: usize = 100_000;

/// A method a knob is limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum MethodScope {
    /// `GET` requests only.
    Get,
    /// `PUT` requests only.
    Put,
}

impl MethodScope {
    /// Whether a request with `method` is one this scope covers.
    pub(super) fn matches(self, method: &Method) -> bool {
        match self {
            Self::Get => method == Method::GET,
            Self::Put => method == Method::PUT,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Put => "PUT",
        }
    }
}

impl fmt::Display for MethodScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MethodScope {
    type Err = FaultConfigError;

    /// `GET` or `PUT`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Get, Self::Put]
            .into_iter()
            .find(|scope| scope.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| FaultConfigError::Method(s.to_owned()))
    }
}

impl TryFrom<String> for MethodScope {
    type Error = FaultConfigError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<MethodScope> for String {
    fn from(scope: MethodScope) -> Self {
        scope.as_str().to_owned()
    }
}

/// The `latency` knob: a wait before each matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Latency {
    /// The wait, in milliseconds.
    pub ms: u64,
    /// Only requests with this method wait.
    #[serde(default)]
    pub method: Option<MethodScope>,
}

/// When a `drop` or `malformed` knob fires: exactly one of `next` and `probability`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Trigger {
    /// Fires on the next this many matching requests (counting down as it fires).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
    /// Fires on each matching request with this probability (0 to 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Only requests with this method count.
    #[serde(default)]
    pub method: Option<MethodScope>,
    /// `drop` only: carry the request out first, then close the connection instead of
    /// answering, as when an answer is lost on the way back.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after_serving: bool,
}

/// The `throttle` knob: exactly one of `everyNth` and `ratePerSecond`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Throttle {
    /// Every Nth matching request (the Nth, the 2Nth, ...) is throttled; 1 throttles them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_nth: Option<u64>,
    /// At most this many matching requests a second get through (a token bucket holding one
    /// second's worth, at least one); the others are throttled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_second: Option<f64>,
    /// The `Retry-After` of a throttled answer (default 1); with `ratePerSecond`, at least the
    /// whole seconds until a request would get through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u32>,
    /// Only requests with this method count.
    #[serde(default)]
    pub method: Option<MethodScope>,
}

/// The `errors` knob: a server error, exactly one of `next` and `probability`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorFault {
    /// The status: 500, 502, 503 or 504 (default 503).
    #[serde(default = "default_error_status")]
    pub status: u16,
    /// Fires on the next this many matching requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
    /// Fires on each matching request with this probability (0 to 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// A `Retry-After` header for the answer (none by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u32>,
    /// Only requests with this method count.
    #[serde(default)]
    pub method: Option<MethodScope>,
}

fn default_error_status() -> u16 {
    503
}

/// The `failItems` knob: every matching request on one of these products or offer types fails
/// with `status`, for as long as the configuration is in effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FailItems {
    /// Product ids and offer types, matched ignoring case against the last segment of an item
    /// path (percent-decoded).
    pub ids: Vec<String>,
    /// The status: one of [`FAIL_ITEM_STATUSES`] (default 409).
    #[serde(default = "default_fail_item_status")]
    pub status: u16,
    /// Only requests with this method fail.
    #[serde(default)]
    pub method: Option<MethodScope>,
}

fn default_fail_item_status() -> u16 {
    409
}

/// Every knob; an absent (or `null`) knob is off. The JSON of `GET`/`PUT /admin/faults`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultConfig {
    /// Seeds the draws of every `probability` (when absent, a random seed is picked and shown).
    pub seed: Option<u64>,
    /// A wait before each matching request.
    pub latency: Option<Latency>,
    /// Close the connection without an answer.
    pub drop: Option<Trigger>,
    /// Answer `429 Too Many Requests`.
    pub throttle: Option<Throttle>,
    /// Answer a server error.
    pub errors: Option<ErrorFault>,
    /// Answer an error for requests on some products or offer types, every time.
    #[serde(default)]
    pub fail_items: Option<FailItems>,
    /// Answer `200` with a truncated body.
    pub malformed: Option<Trigger>,
}

/// A [`FaultConfig`] that makes no sense.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultConfigError {
    /// A method other than GET and PUT.
    #[error("'{0}' is not a method knobs can be limited to: use GET or PUT")]
    Method(String),
    /// Both or neither of `next` and `probability`.
    #[error("{0}: give exactly one of 'next' and 'probability'")]
    Trigger(&'static str),
    /// A probability outside 0..=1.
    #[error("{0}: 'probability' must be between 0 and 1")]
    Probability(&'static str),
    /// Both or neither of `everyNth` and `ratePerSecond`.
    #[error("throttle: give exactly one of 'everyNth' and 'ratePerSecond'")]
    ThrottleMode,
    /// `everyNth` of 0.
    #[error("throttle: 'everyNth' must be at least 1")]
    EveryNth,
    /// A rate that is not a positive number.
    #[error("throttle: 'ratePerSecond' must be a positive number")]
    Rate,
    /// An `errors` status other than 500, 502, 503, 504.
    #[error("errors: 'status' must be one of 500, 502, 503, 504, not {0}")]
    Status(u16),
    /// A `failItems` status not in [`FAIL_ITEM_STATUSES`].
    #[error("failItems: 'status' must be one of 400, 403, 404, 409, 500, 502, 503, 504, not {0}")]
    ItemStatus(u16),
    /// A `failItems` knob without ids, or with more than [`MAX_FAIL_ITEMS`].
    #[error(
        "failItems: 'ids' must list 1 to {MAX_FAIL_ITEMS} product ids or offer types, not {0}"
    )]
    ItemCount(usize),
    /// `afterServing` on a knob other than `drop`.
    #[error("malformed: 'afterServing' belongs to 'drop' only")]
    AfterServing,
    /// An empty (or blank) id in `failItems`.
    #[error("failItems: an id must not be empty")]
    EmptyItemId,
}

fn check_trigger(
    knob: &'static str,
    next: Option<u64>,
    probability: Option<f64>,
) -> Result<(), FaultConfigError> {
    match (next, probability) {
        (Some(_), None) => Ok(()),
        (None, Some(p)) if (0.0..=1.0).contains(&p) => Ok(()),
        (None, Some(_)) => Err(FaultConfigError::Probability(knob)),
        _ => Err(FaultConfigError::Trigger(knob)),
    }
}

impl FaultConfig {
    /// Checks that every knob that is on is complete and in range.
    pub fn validate(&self) -> Result<(), FaultConfigError> {
        if let Some(drop) = &self.drop {
            check_trigger("drop", drop.next, drop.probability)?;
        }
        if let Some(malformed) = &self.malformed {
            check_trigger("malformed", malformed.next, malformed.probability)?;
            if malformed.after_serving {
                return Err(FaultConfigError::AfterServing);
            }
        }
        if let Some(errors) = &self.errors {
            check_trigger("errors", errors.next, errors.probability)?;
            if !ERROR_STATUSES.contains(&errors.status) {
                return Err(FaultConfigError::Status(errors.status));
            }
        }
        if let Some(fail) = &self.fail_items {
            if fail.ids.is_empty() || fail.ids.len() > MAX_FAIL_ITEMS {
                return Err(FaultConfigError::ItemCount(fail.ids.len()));
            }
            if fail.ids.iter().any(|id| id.trim().is_empty()) {
                return Err(FaultConfigError::EmptyItemId);
            }
            if !FAIL_ITEM_STATUSES.contains(&fail.status) {
                return Err(FaultConfigError::ItemStatus(fail.status));
            }
        }
        if let Some(throttle) = &self.throttle {
            match (throttle.every_nth, throttle.rate_per_second) {
                (Some(0), None) => return Err(FaultConfigError::EveryNth),
                (Some(_), None) => {}
                (None, Some(rate)) if rate.is_finite() && rate > 0.0 => {}
                (None, Some(_)) => return Err(FaultConfigError::Rate),
                _ => return Err(FaultConfigError::ThrottleMode),
            }
        }
        Ok(())
    }

    /// Whether every knob is off.
    pub fn is_off(&self) -> bool {
        self.latency.is_none()
            && self.drop.is_none()
            && self.throttle.is_none()
            && self.errors.is_none()
            && self.fail_items.is_none()
            && self.malformed.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> FaultConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn incomplete_or_out_of_range_knobs_are_refused() {
        for (json, error) in [
            (r#"{"drop":{}}"#, FaultConfigError::Trigger("drop")),
            (
                r#"{"malformed":{"next":1,"probability":0.5}}"#,
                FaultConfigError::Trigger("malformed"),
            ),
            (
                r#"{"errors":{"probability":1.5}}"#,
                FaultConfigError::Probability("errors"),
            ),
            (
                r#"{"errors":{"status":404,"next":1}}"#,
                FaultConfigError::Status(404),
            ),
            (r#"{"throttle":{"everyNth":0}}"#, FaultConfigError::EveryNth),
            (
                r#"{"throttle":{"ratePerSecond":0}}"#,
                FaultConfigError::Rate,
            ),
            (r#"{"throttle":{}}"#, FaultConfigError::ThrottleMode),
        ] {
            assert_eq!(config(json).validate().unwrap_err(), error, "{json}");
        }
        assert!(
            serde_json::from_str::<FaultConfig>(r#"{"drop":{"next":1,"method":"POST"}}"#).is_err()
        );
        assert!(serde_json::from_str::<FaultConfig>(r#"{"latency":{"ms":1},"x":1}"#).is_err());
    }
}
