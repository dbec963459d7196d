//! Knobs for testing clients: faults injected into the licensing API (`/v1.0/...` and
//! `/v1/...`) only.
//!
//! A [`FaultConfig`] (the JSON of `PUT /admin/faults`, or the `serve` flags) holds up to six
//! knobs, each optionally limited to one method (`"method": "GET"` or `"PUT"`):
//!
//! | knob | JSON | effect |
//! |---|---|---|
//! | `latency` | `{"ms": 250}` | every matching request waits that long first |
//! | `drop` | `{"next": 2}` or `{"probability": 0.1}`, optionally `"afterServing": true` | the connection is closed without an answer (with `afterServing`, once the request has been carried out: the change is made, its answer lost) |
//! | `throttle` | `{"everyNth": 3}` or `{"ratePerSecond": 5}`, `"retryAfterSeconds": 1` | `429` with `Retry-After` |
//! | `errors` | `{"status": 503, "next": 2}` or `{"status": 500, "probability": 0.5}` | that status, the service's error body |
//! | `failItems` | `{"ids": ["CFQ7TTC0BULK0007", "SaaS"], "status": 409}` | that status, every time, for a request on one of those products or offer types |
//! | `malformed` | `{"next": 1}` or `{"probability": 0.1}` | `200` with the real body cut in half (not valid JSON) |
//!
//! A request meets the knobs in that order; the first of `drop`, `throttle`, `errors`,
//! `failItems` that fires decides the answer, so a knob only sees (and counts) the requests the
//! earlier ones let through. `next: N` fires on the next N matching requests, then stays spent
//! (`next: 0`). Probabilities are drawn from one generator seeded by `seed` (a random one,
//! reported back, when none is given): requests made one after another meet the same faults on
//! every run with that seed.
//!
//! `failItems` is persistent (it never counts down, until the configuration is replaced or
//! cleared): it matches the item routes `/v1.0/policies/{policyId}/products/{productId}` and
//! `/v1.0/policies/{policyId}/offerTypes/{offerType}` (and the same under `/v1`) whose last
//! segment, percent-decoded, is one of `ids` ignoring case (the path as sent: an old product id
//! does not match its replacement).
//! Its status is one of [`FAIL_ITEM_STATUSES`] (default 409), with the service's error body and a
//! reason naming the item (`Product CFQ7TTC0BULK0007 cannot be changed (injected fault)`).
//!
//! [`RequestCounts`] counts every licensing request by method and path as sent
//! (`GET /admin/requests`; `/v1/...` and `/v1.0/...` are separate keys), so a test can check how
//! often a client tried each item, and by which prefix.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::model::ItemKind;
use crate::server::ConnectionControl;
use crate::AppState;

/// The `Retry-After` of a throttled answer when the configuration gives none.
pub const DEFAULT_RETRY_AFTER_S: u32 = 1;

/// The statuses the `errors` knob may answer.
pub const ERROR_STATUSES: [u16; 4] = [500, 502, 503, 504];

/// The statuses the `failItems` knob may answer.
pub const FAIL_ITEM_STATUSES: [u16; 8] = [400, 403, 404, 409, 500, 502, 503, 504];

/// The most ids the `failItems` knob takes.
pub const MAX_FAIL_ITEMS: usize = 100_000;

/// The most distinct method-and-path keys [`RequestCounts`] keeps; requests beyond them are
/// counted as `untracked`.
pub const MAX_COUNTED_REQUESTS: usize = 100_000;

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
    fn matches(self, method: &Method) -> bool {
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

/// How many requests each knob has acted on since the configuration was set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Injected {
    /// Requests delayed by `latency`.
    pub delayed: u64,
    /// Connections closed by `drop`.
    pub dropped: u64,
    /// Requests answered 429 by `throttle`.
    pub throttled: u64,
    /// Requests answered a server error by `errors`.
    pub errors: u64,
    /// Requests on a listed item answered an error by `failItems`.
    pub failed_items: u64,
    /// Requests answered a truncated body by `malformed`.
    pub malformed: u64,
}

/// The configuration in effect (its `seed` filled in, each `next` the count left) and what it
/// did: the answer of `GET /admin/faults`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultStatus {
    /// The configuration in effect.
    #[serde(flatten)]
    pub config: FaultConfig,
    /// What the knobs did.
    pub injected: Injected,
}

/// What to do with one licensing request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Wait this long first.
    pub delay: Option<Duration>,
    /// Then this.
    pub action: Action,
}

/// The answer a request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Serve it.
    Serve,
    /// Serve it, then answer `200` with the body cut in half.
    Malformed,
    /// Close the connection without an answer.
    Drop,
    /// Serve it, then close the connection instead of answering.
    DropAfterServing,
    /// `429` with this `Retry-After`.
    Throttle {
        /// Seconds.
        retry_after_s: u32,
    },
    /// A server error.
    Fail {
        /// 500, 502, 503 or 504.
        status: StatusCode,
        /// An optional `Retry-After`, in seconds.
        retry_after_s: Option<u32>,
    },
    /// An error for the request's item (`failItems`); the reason names the item.
    FailItem {
        /// One of [`FAIL_ITEM_STATUSES`].
        status: StatusCode,
    },
}

/// The product or offer type a licensing request is about, read from its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetItem {
    /// A product or an offer type.
    pub kind: ItemKind,
    /// The id as the path has it, percent-decoded.
    pub id: String,
}

impl TargetItem {
    /// The item of `/v1.0/policies/{policyId}/products/{productId}` or
    /// `/v1.0/policies/{policyId}/offerTypes/{offerType}` (under either prefix of
    /// [`PREFIXES`](crate::routes::licensing::PREFIXES), or without one); `None` for any other
    /// path.
    pub fn from_path(path: &str) -> Option<Self> {
        let rest = crate::routes::licensing::route_path(path).unwrap_or(path);
        let mut segments = rest.strip_prefix('/')?.split('/');
        let (Some("policies"), Some(policy), Some(kind), Some(id), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return None;
        };
        if policy.is_empty() || id.is_empty() {
            return None;
        }
        let kind = match kind {
            "products" => ItemKind::Product,
            "offerTypes" => ItemKind::OfferType,
            _ => return None,
        };
        Some(Self {
            kind,
            id: percent_decode(id),
        })
    }

    /// The reason of a `failItems` answer: `Product X cannot be changed (injected fault)`.
    pub fn failure_reason(&self, method: &Method) -> String {
        let kind = match self.kind {
            ItemKind::Product => "Product",
            ItemKind::OfferType => "Offer type",
        };
        let what = if method == Method::PUT {
            "changed"
        } else {
            "read"
        };
        format!("{kind} {} cannot be {what} (injected fault)", self.id)
    }
}

/// Decodes `%XX` escapes (invalid ones are kept as they are; invalid UTF-8 is replaced).
fn percent_decode(text: &str) -> String {
    fn hex(byte: u8) -> Option<u8> {
        char::from(byte)
            .to_digit(16)
            .and_then(|digit| u8::try_from(digit).ok())
    }
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'%' {
            if let [high, low, after @ ..] = tail {
                if let (Some(high), Some(low)) = (hex(*high), hex(*low)) {
                    decoded.push(high << 4 | low);
                    rest = after;
                    continue;
                }
            }
        }
        decoded.push(first);
        rest = tail;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// The knobs in effect, shared by every request. Decisions are made under one lock, in the
/// order requests reach it.
#[derive(Debug)]
pub struct Faults {
    state: Mutex<FaultState>,
}

#[derive(Debug)]
struct FaultState {
    config: FaultConfig,
    rng: StdRng,
    /// Requests the `everyNth` throttle has counted.
    throttle_count: u64,
    /// The `ratePerSecond` throttle's tokens and when they were last topped up.
    bucket: (f64, Instant),
    /// The `failItems` ids, lowercased.
    fail_ids: HashSet<String>,
    injected: Injected,
}

impl FaultState {
    fn new(mut config: FaultConfig) -> Self {
        let seed = *config.seed.get_or_insert_with(rand::random);
        let capacity = config
            .throttle
            .and_then(|throttle| throttle.rate_per_second)
            .map_or(1.0, |rate| rate.max(1.0));
        let fail_ids = config
            .fail_items
            .iter()
            .flat_map(|knob| knob.ids.iter().map(|id| id.trim().to_lowercase()))
            .collect();
        Self {
            config,
            rng: StdRng::seed_from_u64(seed),
            throttle_count: 0,
            bucket: (capacity, Instant::now()),
            fail_ids,
            injected: Injected::default(),
        }
    }

    fn status(&self) -> FaultStatus {
        FaultStatus {
            config: self.config.clone(),
            injected: self.injected,
        }
    }

    fn decide(&mut self, method: &Method, item: Option<&TargetItem>, now: Instant) -> Decision {
        let applies = |scope: Option<MethodScope>| scope.is_none_or(|scope| scope.matches(method));
        let mut decision = Decision {
            delay: None,
            action: Action::Serve,
        };
        if let Some(latency) = self.config.latency.filter(|knob| applies(knob.method)) {
            decision.delay = Some(Duration::from_millis(latency.ms));
            self.injected.delayed += 1;
        }
        let rng = &mut self.rng;
        if let Some(drop) = self
            .config
            .drop
            .as_mut()
            .filter(|knob| applies(knob.method))
        {
            if fires(&mut drop.next, drop.probability, rng) {
                self.injected.dropped += 1;
                decision.action = if drop.after_serving {
                    Action::DropAfterServing
                } else {
                    Action::Drop
                };
                return decision;
            }
        }
        if let Some(throttle) = self.config.throttle.filter(|knob| applies(knob.method)) {
            let retry_after_s = throttle
                .retry_after_seconds
                .unwrap_or(DEFAULT_RETRY_AFTER_S);
            let throttled = if let Some(every) = throttle.every_nth {
                self.throttle_count += 1;
                self.throttle_count
                    .is_multiple_of(every.max(1))
                    .then_some(retry_after_s)
            } else {
                let rate = throttle.rate_per_second.unwrap_or(1.0);
                take_token(&mut self.bucket, rate, now)
                    .err()
                    .map(|wait_s| retry_after_s.max(wait_s))
            };
            if let Some(retry_after_s) = throttled {
                self.injected.throttled += 1;
                decision.action = Action::Throttle { retry_after_s };
                return decision;
            }
        }
        if let Some(errors) = self
            .config
            .errors
            .as_mut()
            .filter(|knob| applies(knob.method))
        {
            if fires(&mut errors.next, errors.probability, rng) {
                self.injected.errors += 1;
                decision.action = Action::Fail {
                    status: StatusCode::from_u16(errors.status)
                        .unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                    retry_after_s: errors.retry_after_seconds,
                };
                return decision;
            }
        }
        if let (Some(fail), Some(item)) = (
            self.config
                .fail_items
                .as_ref()
                .filter(|knob| applies(knob.method)),
            item,
        ) {
            if self.fail_ids.contains(&item.id.trim().to_lowercase()) {
                self.injected.failed_items += 1;
                decision.action = Action::FailItem {
                    status: StatusCode::from_u16(fail.status).unwrap_or(StatusCode::CONFLICT),
                };
                return decision;
            }
        }
        if let Some(malformed) = self
            .config
            .malformed
            .as_mut()
            .filter(|knob| applies(knob.method))
        {
            if fires(&mut malformed.next, malformed.probability, rng) {
                self.injected.malformed += 1;
                decision.action = Action::Malformed;
            }
        }
        decision
    }
}

/// Whether a `next`/`probability` trigger fires, counting `next` down.
fn fires(next: &mut Option<u64>, probability: Option<f64>, rng: &mut StdRng) -> bool {
    match (next.as_mut(), probability) {
        (Some(left), _) if *left > 0 => {
            *left -= 1;
            true
        }
        (Some(_), _) => false,
        (None, Some(p)) => rng.gen::<f64>() < p,
        (None, None) => false,
    }
}

/// Takes a token from the bucket (refilled at `rate` a second, holding at most one second's
/// worth and at least one); when there is none, the whole seconds until there is.
fn take_token(bucket: &mut (f64, Instant), rate: f64, now: Instant) -> Result<(), u32> {
    let capacity = rate.max(1.0);
    let (tokens, last) = bucket;
    let elapsed = now.saturating_duration_since(*last).as_secs_f64();
    *tokens = (*tokens + elapsed * rate).min(capacity);
    *last = now;
    if *tokens >= 1.0 {
        *tokens -= 1.0;
        Ok(())
    } else {
        let wait = ((1.0 - *tokens) / rate).ceil();
        // The wait is positive and finite (rate > 0); the cast saturates at u32::MAX.
        Err((wait as u32).max(1))
    }
}

impl Default for Faults {
    fn default() -> Self {
        Self::new()
    }
}

impl Faults {
    /// No faults.
    pub fn new() -> Self {
        Self {
            state: Mutex::new(FaultState::new(FaultConfig::default())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        // Nothing panics while the lock is held; a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the configuration (after checking it), resetting the counters and the generator.
    pub fn set(&self, config: FaultConfig) -> Result<FaultStatus, FaultConfigError> {
        config.validate()?;
        let state = FaultState::new(config);
        let status = state.status();
        *self.lock() = state;
        Ok(status)
    }

    /// Turns every knob off.
    pub fn clear(&self) -> FaultStatus {
        let state = FaultState::new(FaultConfig::default());
        let status = state.status();
        *self.lock() = state;
        status
    }

    /// The configuration in effect and what it did.
    pub fn status(&self) -> FaultStatus {
        self.lock().status()
    }

    /// What to do with a licensing request with this method, about this item (see
    /// [`TargetItem::from_path`]), arriving now.
    pub fn decide(&self, method: &Method, item: Option<&TargetItem>) -> Decision {
        self.lock().decide(method, item, Instant::now())
    }
}

/// How many licensing requests arrived, by method and path (`"PUT /v1.0/policies/P/products/X"`,
/// the path as sent, without the query), since the start or the last [`RequestCounts::clear`].
/// At most [`MAX_COUNTED_REQUESTS`] keys are kept; requests with a new key beyond them count in
/// `untracked` only.
#[derive(Debug, Default)]
pub struct RequestCounts {
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    by_request: HashMap<String, u64>,
    total: u64,
    untracked: u64,
}

/// The answer of `GET /admin/requests`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestCountsBody {
    /// Every licensing request counted.
    pub total: u64,
    /// Requests not counted by key because [`MAX_COUNTED_REQUESTS`] keys were already kept.
    pub untracked: u64,
    /// The count of each `"METHOD /path"`, sorted by key.
    pub requests: BTreeMap<String, u64>,
}

impl RequestCounts {
    /// No requests counted.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // Nothing panics while the lock is held; a poisoned map is still consistent.
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one request.
    pub fn record(&self, method: &Method, path: &str) {
        let key = format!("{method} {path}");
        let mut counts = self.lock();
        counts.total += 1;
        let tracked = counts.by_request.len();
        match counts.by_request.get_mut(&key) {
            Some(count) => *count += 1,
            None if tracked < MAX_COUNTED_REQUESTS => {
                counts.by_request.insert(key, 1);
            }
            None => counts.untracked += 1,
        }
    }

    /// The counts.
    pub fn snapshot(&self) -> RequestCountsBody {
        let counts = self.lock();
        RequestCountsBody {
            total: counts.total,
            untracked: counts.untracked,
            requests: counts
                .by_request
                .iter()
                .map(|(key, count)| (key.clone(), *count))
                .collect(),
        }
    }

    /// Forgets every count.
    pub fn clear(&self) -> RequestCountsBody {
        *self.lock() = Counts::default();
        RequestCountsBody::default()
    }
}

/// Middleware for the licensing API: counts each request ([`RequestCounts`]) and applies the
/// [`Faults`] of the state to it.
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
            tracing::info!("injected fault: malformed body");
            truncated(next.run(request).await).await
        }
        Action::Drop | Action::DropAfterServing => {
            tracing::info!("injected fault: dropped connection");
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
            tracing::info!(retry_after_s, "injected fault: throttled");
            ApiError::TooManyRequests { retry_after_s }.into_response()
        }
        Action::Fail {
            status,
            retry_after_s,
        } => {
            tracing::info!(status = status.as_u16(), "injected fault: server error");
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
            tracing::info!(status = status.as_u16(), %reason, "injected fault: failed item");
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
            tracing::debug!(%error, "cannot read the body to truncate");
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> FaultConfig {
        serde_json::from_str(json).unwrap()
    }

    fn actions(faults: &Faults, method: &Method, n: usize) -> Vec<Action> {
        (0..n).map(|_| faults.decide(method, None).action).collect()
    }

    #[test]
    fn next_n_fires_on_the_next_n_requests_then_stays_spent() {
        let faults = Faults::new();
        faults
            .set(config(r#"{"errors":{"status":500,"next":2}}"#))
            .unwrap();
        let fail = Action::Fail {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            retry_after_s: None,
        };
        assert_eq!(
            actions(&faults, &Method::GET, 4),
            [fail, fail, Action::Serve, Action::Serve]
        );
        let status = faults.status();
        assert_eq!(status.config.errors.unwrap().next, Some(0));
        assert_eq!(status.injected.errors, 2);
    }

    #[test]
    fn every_nth_throttles_the_nth_matching_request() {
        let faults = Faults::new();
        faults
            .set(config(
                r#"{"throttle":{"everyNth":3,"retryAfterSeconds":7,"method":"put"}}"#,
            ))
            .unwrap();
        let throttle = Action::Throttle { retry_after_s: 7 };
        let got: Vec<Action> = (0..6)
            .flat_map(|_| {
                [
                    faults.decide(&Method::GET, None).action,
                    faults.decide(&Method::PUT, None).action,
                ]
            })
            .filter(|action| *action != Action::Serve)
            .collect();
        assert_eq!(got, [throttle, throttle]);
    }

    #[test]
    fn rate_lets_a_second_worth_through_then_throttles() {
        let mut state = FaultState::new(config(r#"{"throttle":{"ratePerSecond":2}}"#));
        let start = Instant::now();
        let serve =
            |state: &mut FaultState, at: Duration| state.decide(&Method::GET, None, start + at);
        assert_eq!(serve(&mut state, Duration::ZERO).action, Action::Serve);
        assert_eq!(serve(&mut state, Duration::ZERO).action, Action::Serve);
        assert_eq!(
            serve(&mut state, Duration::ZERO).action,
            Action::Throttle { retry_after_s: 1 }
        );
        assert_eq!(
            serve(&mut state, Duration::from_millis(500)).action,
            Action::Serve
        );
    }

    #[test]
    fn same_seed_gives_the_same_faults() {
        let run = || {
            let faults = Faults::new();
            faults
                .set(config(
                    r#"{"seed":42,"drop":{"probability":0.2},"malformed":{"probability":0.3}}"#,
                ))
                .unwrap();
            actions(&faults, &Method::GET, 200)
        };
        let first = run();
        assert_eq!(first, run());
        assert!(first.contains(&Action::Drop) && first.contains(&Action::Malformed));
        assert!(first.contains(&Action::Serve));
    }

    #[test]
    fn a_random_seed_is_picked_and_shown() {
        let faults = Faults::new();
        let status = faults
            .set(config(r#"{"latency":{"ms":5,"method":"GET"}}"#))
            .unwrap();
        assert!(status.config.seed.is_some());
        let decision = faults.decide(&Method::GET, None);
        assert_eq!(decision.delay, Some(Duration::from_millis(5)));
        assert_eq!(faults.decide(&Method::PUT, None).delay, None);
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
            assert_eq!(
                Faults::new().set(config(json)).unwrap_err(),
                error,
                "{json}"
            );
        }
        assert!(
            serde_json::from_str::<FaultConfig>(r#"{"drop":{"next":1,"method":"POST"}}"#).is_err()
        );
        assert!(serde_json::from_str::<FaultConfig>(r#"{"latency":{"ms":1},"x":1}"#).is_err());
    }

    #[test]
    fn the_item_is_read_from_item_paths_only() {
        let item = |path: &str| TargetItem::from_path(path);
        assert_eq!(
            item("/v1.0/policies/P/products/CFQ7TTC0%4aX%2F%zz"),
            Some(TargetItem {
                kind: ItemKind::Product,
                id: "CFQ7TTC0JX/%zz".to_owned()
            })
        );
        assert_eq!(
            item("/policies/P/offerTypes/SaaS").map(|item| item.kind),
            Some(ItemKind::OfferType)
        );
        assert_eq!(
            item("/v1/policies/P/offerTypes/SaaS"),
            Some(TargetItem {
                kind: ItemKind::OfferType,
                id: "SaaS".to_owned()
            })
        );
        for path in [
            "/v1/policies/P",
            "/v10/policies/P/products/X",
            "/v2/policies/P/products/X",
            "/v1.0/policies",
            "/v1.0/policies/P",
            "/v1.0/policies/P/products",
            "/v1.0/policies/P/products/",
            "/v1.0/policies/P/products/X/more",
            "/v1.0/policies/P/Products/X",
            "/v1.0/policies//products/X",
            "/v1.0/other/P/products/X",
        ] {
            assert_eq!(item(path), None, "{path}");
        }
        assert_eq!(percent_decode("%E2%82%AC%"), "\u{20ac}%");
    }

    #[test]
    fn fail_items_come_after_errors_and_before_malformed_and_never_run_out() {
        let faults = Faults::new();
        faults
            .set(config(
                r#"{"errors":{"status":502,"next":1},"malformed":{"next":5},
                    "failItems":{"ids":["a1"],"status":404,"method":"PUT"}}"#,
            ))
            .unwrap();
        let listed = TargetItem {
            kind: ItemKind::Product,
            id: "A1".to_owned(),
        };
        let other = TargetItem {
            kind: ItemKind::Product,
            id: "B2".to_owned(),
        };
        let fail_item = Action::FailItem {
            status: StatusCode::NOT_FOUND,
        };
        assert!(matches!(
            faults.decide(&Method::PUT, Some(&listed)).action,
            Action::Fail { .. }
        ));
        for _ in 0..3 {
            assert_eq!(faults.decide(&Method::PUT, Some(&listed)).action, fail_item);
        }
        assert_eq!(
            faults.decide(&Method::GET, Some(&listed)).action,
            Action::Malformed
        );
        assert_eq!(
            faults.decide(&Method::PUT, Some(&other)).action,
            Action::Malformed
        );
        assert_eq!(faults.decide(&Method::PUT, None).action, Action::Malformed);
        let status = faults.status();
        assert_eq!(status.injected.failed_items, 3);
        assert_eq!(status.injected.malformed, 3);
        assert_eq!(status.config.malformed.unwrap().next, Some(2));
    }

    #[test]
    fn request_counts_keep_a_bounded_number_of_keys() {
        let counts = RequestCounts::new();
        for n in 0..MAX_COUNTED_REQUESTS {
            counts.record(&Method::PUT, &format!("/v1.0/x/{n}"));
        }
        counts.record(&Method::PUT, "/v1.0/x/0");
        counts.record(&Method::PUT, "/v1.0/x/new");
        counts.record(&Method::GET, "/v1.0/x/0");
        let snapshot = counts.snapshot();
        assert_eq!(snapshot.requests.len(), MAX_COUNTED_REQUESTS);
        assert_eq!(snapshot.requests["PUT /v1.0/x/0"], 2);
        assert_eq!(snapshot.total, MAX_COUNTED_REQUESTS as u64 + 3);
        assert_eq!(snapshot.untracked, 2);
        assert_eq!(counts.clear(), RequestCountsBody::default());
        assert_eq!(counts.snapshot().total, 0);
    }
}
