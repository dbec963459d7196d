//! How many requests of a bulk operation are in flight at once: a window that adapts to the
//! service the way TCP's congestion window adapts to the network (additive increase,
//! multiplicative decrease), under a hard cap (`-ThrottleLimit`).
//!
//! Every attempt of every request of the operation, retries included, takes a [`Permit`] from
//! one [`Limiter`] before it is sent and gives it back with what the service answered:
//!
//! - an answer that is not throttling and came back quickly grows the window: by one per answer
//!   while below the threshold (slow start, doubling it every round trip), then by one per
//!   window's worth of answers (one per round trip);
//! - a 429 or 503 halves the window, once per round trip (only an attempt sent after the last
//!   decrease can decrease it again, so a burst of 429s to the requests already in flight counts
//!   once, as TCP counts the losses of one window once);
//! - a `Retry-After` holds back every request of the operation, new ones and retries alike,
//!   until that instant has passed, so a burst of 429s does not turn into a burst of retries.
//!
//! "Quickly" is measured against the fastest answer seen: an answer more than
//! [`SLOW_FACTOR`] times slower (and [`SLOW_MARGIN`] more) means requests are queueing at the
//! service, and the window stops growing (it holds; only throttling shrinks it). Other failures
//! (a 500, a dropped connection) neither grow nor shrink it: the retry layer's backoff handles
//! them.
//!
//! A limiter is shared: several bulk runs (one per tenant, say) may draw on one, so one
//! `-ThrottleLimit` bounds all of them together.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
// Tokio's clock, so that tests with paused time see the waits as the limiter does.
use tokio::time::Instant;

use super::Cancel;

/// The window a limiter starts with (or the cap, when lower): enough that a handful of items
/// never waits for the window to open, small enough not to hit a busy service with a burst.
pub const INITIAL_WINDOW: usize = 8;

/// How many times slower than the fastest answer seen an answer may be and still count as quick.
pub const SLOW_FACTOR: u32 = 4;

/// An answer within this much of the fastest one is quick whatever [`SLOW_FACTOR`] says, so
/// the jitter of a loopback service answering in microseconds does not stop the growth.
pub const SLOW_MARGIN: Duration = Duration::from_millis(20);

/// How one attempt ended, as the limiter needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The service answered with this status (any status but the throttling ones below).
    Answered,
    /// The service throttled (429) or was unavailable (503), asking to wait this long when it
    /// sent a `Retry-After`.
    Throttled(Option<Duration>),
    /// No answer (a timeout, a dropped connection) or a server fault: neither grows nor
    /// shrinks the window.
    Failed,
}

impl Outcome {
    /// The outcome of an answer with `status` and its `Retry-After`, if any.
    pub fn of_status(status: u16, retry_after: Option<Duration>) -> Self {
        match status {
            429 | 503 => Outcome::Throttled(retry_after),
            500..=599 => Outcome::Failed,
            _ => Outcome::Answered,
        }
    }
}

/// The adaptive window of one bulk operation (or of several sharing it); see the module's
/// documentation.
#[derive(Debug)]
pub struct Limiter {
    cap: usize,
    state: Mutex<State>,
    /// Woken when a permit is given back, the window grows or a `Retry-After` ends.
    changed: Notify,
}

#[derive(Debug)]
struct State {
    /// How many attempts may be in flight; fractional between whole steps of the additive
    /// increase.
    window: f64,
    /// Slow start ends here: below it the window grows by one per answer.
    threshold: f64,
    in_flight: usize,
    /// No attempt is released before this instant (the latest `Retry-After`).
    not_before: Option<Instant>,
    /// When the window was last halved: only attempts sent after it may halve it again.
    last_decrease: Option<Instant>,
    /// The fastest answer seen.
    fastest: Option<Duration>,
    /// The largest window reached, for the verbose summary.
    peak: usize,
    /// How many times the window was halved.
    decreases: u32,
}

impl Limiter {
    /// A limiter that never lets more than `cap` attempts out at once (at least one).
    pub fn new(cap: usize) -> Self {
        let cap = cap.max(1);
        let window = INITIAL_WINDOW.min(cap);
        Limiter {
            cap,
            state: Mutex::new(State {
                window: window as f64,
                threshold: cap as f64,
                in_flight: 0,
                not_before: None,
                last_decrease: None,
                fastest: None,
                peak: window,
                decreases: 0,
            }),
            changed: Notify::new(),
        }
    }

    /// The hard cap.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// How many attempts may be in flight now.
    pub fn window(&self) -> usize {
        whole(self.lock().window)
    }

    /// How many attempts are in flight now.
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight
    }

    /// The largest window reached, and how many times the window was halved.
    pub fn summary(&self) -> (usize, u32) {
        let state = self.lock();
        (state.peak, state.decreases)
    }

    /// Waits until an attempt may be sent (the window has room and no `Retry-After` is
    /// pending) and takes its place; `None` when `cancel` fires first.
    pub async fn acquire(&self, cancel: &Cancel) -> Option<Permit<'_>> {
        loop {
            // Registered before the state is read, so a change between the two is not missed.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let hold_until = {
                let mut state = self.lock();
                let now = Instant::now();
                match state.not_before {
                    Some(instant) if instant > now => Some(instant),
                    _ if state.in_flight < whole(state.window) => {
                        state.in_flight += 1;
                        return Some(Permit {
                            limiter: self,
                            sent: now,
                            done: false,
                        });
                    }
                    _ => None,
                }
            };
            let wait = async {
                match hold_until {
                    Some(instant) => tokio::time::sleep_until(instant).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return None,
                _ = changed => {}
                _ = wait => {}
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a handful of numbers, each update complete before the lock is let go.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Gives back a permit of an attempt sent at `sent` that ended with `outcome`.
    fn release(&self, sent: Instant, outcome: Option<Outcome>) {
        let now = Instant::now();
        {
            let mut state = self.lock();
            state.in_flight = state.in_flight.saturating_sub(1);
            match outcome {
                Some(Outcome::Answered) => {
                    let took = now.saturating_duration_since(sent);
                    let fastest = *state.fastest.get_or_insert(took);
                    if took < fastest {
                        state.fastest = Some(took);
                    }
                    let quick = took <= (fastest * SLOW_FACTOR).max(fastest + SLOW_MARGIN);
                    if quick {
                        let step = if state.window < state.threshold {
                            1.0
                        } else {
                            1.0 / state.window
                        };
                        state.window = (state.window + step).min(self.cap as f64);
                        state.peak = state.peak.max(whole(state.window));
                    }
                }
                Some(Outcome::Throttled(retry_after)) => {
                    if state.last_decrease.is_none_or(|last| sent >= last) {
                        let halved = (state.window / 2.0).max(1.0);
                        state.window = halved;
                        state.threshold = halved;
                        state.last_decrease = Some(now);
                        state.decreases += 1;
                    }
                    if let Some(after) = retry_after.and_then(|after| now.checked_add(after)) {
                        state.not_before = Some(state.not_before.map_or(after, |t| t.max(after)));
                    }
                }
                Some(Outcome::Failed) | None => {}
            }
        }
        self.changed.notify_waiters();
    }
}

/// The window as a whole number of attempts, at least one.
fn whole(window: f64) -> usize {
    // The window stays between 1 and the cap, a usize: the cast neither truncates nor wraps.
    (window.floor() as usize).max(1)
}

/// The place of one attempt in flight. Give it back with [`Permit::finish`]; dropping it (the
/// attempt was cancelled) frees the place without teaching the limiter anything.
#[derive(Debug)]
pub struct Permit<'a> {
    limiter: &'a Limiter,
    sent: Instant,
    done: bool,
}

impl Permit<'_> {
    /// Frees the place and tells the limiter how the attempt ended.
    pub fn finish(mut self, outcome: Outcome) {
        self.done = true;
        self.limiter.release(self.sent, Some(outcome));
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.limiter.release(self.sent, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    /// Takes every place the window offers now, without waiting.
    fn take_all<'a>(limiter: &'a Limiter, cancel: &Cancel) -> Vec<Permit<'a>> {
        let mut permits = Vec::new();
        runtime().block_on(async {
            loop {
                let next = tokio::time::timeout(Duration::ZERO, limiter.acquire(cancel)).await;
                match next {
                    Ok(Some(permit)) => permits.push(permit),
                    _ => break,
                }
            }
        });
        permits
    }

    #[test]
    fn it_starts_with_the_initial_window_or_the_cap() {
        let cancel = Cancel::new();
        assert_eq!(take_all(&Limiter::new(64), &cancel).len(), INITIAL_WINDOW);
        assert_eq!(take_all(&Limiter::new(3), &cancel).len(), 3);
        assert_eq!(Limiter::new(0).cap(), 1);
    }

    #[test]
    fn quick_answers_double_the_window_per_round_trip_in_slow_start() {
        let cancel = Cancel::new();
        let limiter = Limiter::new(64);
        for expected in [8, 16, 32, 64, 64] {
            let permits = take_all(&limiter, &cancel);
            assert_eq!(permits.len(), expected);
            for permit in permits {
                permit.finish(Outcome::Answered);
            }
        }
        assert_eq!(limiter.in_flight(), 0);
    }

    #[test]
    fn the_cap_is_never_exceeded() {
        let cancel = Cancel::new();
        let limiter = Limiter::new(10);
        for _ in 0..5 {
            let permits = take_all(&limiter, &cancel);
            assert!(permits.len() <= 10, "{}", permits.len());
            permits
                .into_iter()
                .for_each(|p| p.finish(Outcome::Answered));
        }
        assert_eq!(limiter.window(), 10);
    }

    #[test]
    fn throttling_halves_the_window_once_per_round_trip_then_it_grows_by_one() {
        let cancel = Cancel::new();
        let limiter = Limiter::new(64);
        let permits = take_all(&limiter, &cancel);
        assert_eq!(permits.len(), 8);
        // The whole window is throttled: one decrease, not eight.
        for permit in permits {
            permit.finish(Outcome::Throttled(None));
        }
        assert_eq!(limiter.window(), 4);
        assert_eq!(limiter.summary().1, 1);
        // Past the threshold, a round trip of quick answers adds one.
        let permits = take_all(&limiter, &cancel);
        assert_eq!(permits.len(), 4);
        permits
            .into_iter()
            .for_each(|p| p.finish(Outcome::Answered));
        assert_eq!(limiter.window(), 4, "four answers add less than one");
        let permits = take_all(&limiter, &cancel);
        permits
            .into_iter()
            .for_each(|p| p.finish(Outcome::Answered));
        assert_eq!(limiter.window(), 5);
        // An attempt sent after the decrease may halve it again.
        let permit = take_all(&limiter, &cancel).remove(0);
        permit.finish(Outcome::Throttled(None));
        assert_eq!(limiter.window(), 2);
    }

    #[test]
    fn failures_neither_grow_nor_shrink_the_window() {
        let cancel = Cancel::new();
        let limiter = Limiter::new(64);
        for permit in take_all(&limiter, &cancel) {
            permit.finish(Outcome::Failed);
        }
        let dropped = take_all(&limiter, &cancel);
        drop(dropped);
        assert_eq!(limiter.window(), INITIAL_WINDOW);
        assert_eq!(limiter.in_flight(), 0);
    }

    #[test]
    fn slow_answers_hold_the_window() {
        let limiter = Limiter::new(64);
        let cancel = Cancel::new();
        runtime().block_on(async {
            let quick = limiter.acquire(&cancel).await.unwrap();
            quick.finish(Outcome::Answered);
            assert_eq!(limiter.window(), 9);
            let slow = limiter.acquire(&cancel).await.unwrap();
            // Beyond the margin, and far more than four times the first answer's microseconds.
            tokio::time::sleep(SLOW_MARGIN * 3).await;
            slow.finish(Outcome::Answered);
            assert_eq!(limiter.window(), 9);
        });
    }

    #[test]
    fn retry_after_holds_back_every_attempt_until_it_has_passed() {
        let limiter = Limiter::new(64);
        let cancel = Cancel::new();
        let asked = Duration::from_millis(300);
        runtime().block_on(async {
            let first = limiter.acquire(&cancel).await.unwrap();
            let other = limiter.acquire(&cancel).await.unwrap();
            first.finish(Outcome::Throttled(Some(asked)));
            let throttled_at = Instant::now();
            // The window has room, but the service asked to wait.
            let early = tokio::time::timeout(asked / 2, limiter.acquire(&cancel)).await;
            assert!(early.is_err(), "released before Retry-After passed");
            let next = limiter.acquire(&cancel).await.unwrap();
            assert!(throttled_at.elapsed() >= asked - Duration::from_millis(5));
            drop((next, other));
        });
    }

    #[test]
    fn a_full_window_waits_for_a_place_and_cancel_stops_the_wait() {
        let limiter = Limiter::new(1);
        let cancel = Cancel::new();
        runtime().block_on(async {
            let held = limiter.acquire(&cancel).await.unwrap();
            let waiting = limiter.acquire(&cancel);
            tokio::pin!(waiting);
            assert!(
                tokio::time::timeout(Duration::from_millis(50), waiting.as_mut())
                    .await
                    .is_err()
            );
            held.finish(Outcome::Answered);
            let next = waiting.await.unwrap();
            let stopped = Cancel::new();
            stopped.cancel();
            assert!(limiter.acquire(&stopped).await.is_none());
            drop(next);
        });
    }

    #[test]
    fn statuses_map_to_outcomes() {
        let after = Some(Duration::from_secs(1));
        assert_eq!(Outcome::of_status(429, after), Outcome::Throttled(after));
        assert_eq!(Outcome::of_status(503, None), Outcome::Throttled(None));
        assert_eq!(Outcome::of_status(500, None), Outcome::Failed);
        assert_eq!(Outcome::of_status(200, None), Outcome::Answered);
        assert_eq!(Outcome::of_status(404, None), Outcome::Answered);
    }
}
