//! Deciding what the knobs do to each licensing request: the state they share (counters, the
//! seeded generator, the throttle's bucket) and the [`Decision`] for one request.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::config::{FaultConfig, FaultConfigError, MethodScope, DEFAULT_RETRY_AFTER_S};
use super::target::TargetItem;

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
        /// One of [`FAIL_ITEM_STATUSES`](super::config::FAIL_ITEM_STATUSES).
        status: StatusCode,
    },
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ItemKind;

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
}
