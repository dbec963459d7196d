//! Retrying transient faults: which answers are worth another attempt, how long to wait, and
//! when to stop.
//!
//! - Only idempotent requests are retried ([`HttpRequest::is_idempotent`]: `GET` and `PUT`).
//! - `429` and `503` wait as long as their `Retry-After` says (delta-seconds or an HTTP-date);
//!   without one, and for `500`, `502`, `504`, refused, reset or dropped connections and attempts
//!   that time out, the wait is capped exponential backoff with full jitter: a random time
//!   between zero and `min(max_delay, base_delay * 2^(n-1))` after the n-th failed attempt.
//! - Everything else (`4xx`, TLS failures, answers too large) is final at once.
//! - All attempts and waits share one time budget: an attempt gets at most what is left of it,
//!   and a `Retry-After` longer than what is left ends the call at once.
//! - Every attempt of one call carries the same `x-ms-correlation-id`: it names the operation
//!   the user asked for, so the service's logs tie the attempts together and the one id in the
//!   error finds all of them (the convention of Microsoft's SDKs for client request ids).
//! - Cancellation stops an attempt or a wait at once.

use std::time::{Duration, Instant, SystemTime};

use super::{
    attempt, cancelled, in_seconds, plural, seconds, AttemptError, Call, Channel, HttpRequest,
    Response,
};
use crate::error::{Error, Result};
use crate::http::concurrency::Outcome;
use crate::http::Cancel;
use crate::log::Sink;
use crate::secret::Secret;

/// How often and for how long a call is retried. Set per client (`docs/abi.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 turns retrying off.
    pub max_attempts: u32,
    /// The time all attempts and waits of one call may take together.
    pub budget: Duration,
    /// The backoff ceiling after the first failed attempt; it doubles with each further one.
    pub base_delay: Duration,
    /// The most the backoff ceiling grows to (a `Retry-After` is honoured beyond it).
    pub max_delay: Duration,
}

/// Attempts in all by default: the first and three retries.
pub(crate) const DEFAULT_MAX_ATTEMPTS: u32 = 4;
/// The default time budget of one call, in seconds.
pub(crate) const DEFAULT_BUDGET_SECONDS: f64 = 120.0;
/// The default backoff ceiling after the first failed attempt, in seconds.
pub(crate) const DEFAULT_BASE_DELAY_SECONDS: f64 = 1.0;
/// The default cap of the backoff ceiling, in seconds.
pub(crate) const DEFAULT_MAX_DELAY_SECONDS: f64 = 30.0;

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            budget: Duration::from_secs_f64(DEFAULT_BUDGET_SECONDS),
            base_delay: Duration::from_secs_f64(DEFAULT_BASE_DELAY_SECONDS),
            max_delay: Duration::from_secs_f64(DEFAULT_MAX_DELAY_SECONDS),
        }
    }
}

impl RetryPolicy {
    /// The longest backoff after `failed` failed attempts (1 or more): `base_delay` doubled
    /// `failed - 1` times, capped at `max_delay`. The wait itself is a random part of it.
    pub fn backoff_ceiling(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(31);
        self.base_delay
            .checked_mul(1u32 << doublings)
            .map_or(self.max_delay, |ceiling| ceiling.min(self.max_delay))
    }

    /// How many attempts `request` may have: one unless repeating it is safe.
    pub fn attempts_for(&self, request: &HttpRequest) -> u32 {
        if request.is_idempotent() {
            self.max_attempts.max(1)
        } else {
            1
        }
    }
}

/// Whether an answer with this status is worth another attempt.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// Whether a `Retry-After` on an answer with this status sets the wait (elsewhere the backoff
/// does): throttling and planned unavailability are the statuses the header is defined for.
pub fn honours_retry_after(status: u16) -> bool {
    matches!(status, 429 | 503)
}

/// Full jitter: `fraction` (0 to 1) of `ceiling`; anything else gives no wait.
pub fn jittered(ceiling: Duration, fraction: f64) -> Duration {
    if (0.0..=1.0).contains(&fraction) {
        ceiling.mul_f64(fraction)
    } else {
        Duration::ZERO
    }
}

/// A random fraction in `[0, 1)`. Drawn from a v4 UUID, whose bits come from the operating
/// system's generator the crate already uses for correlation ids: no other dependency needed.
fn random_fraction() -> f64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    // Bytes 10..16 are random in every v4 UUID (the version and variant bits are elsewhere).
    let mut value = 0u64;
    for byte in &bytes[10..16] {
        value = (value << 8) | u64::from(*byte);
    }
    value as f64 / (1u64 << 48) as f64
}

/// The wait a `Retry-After` value asks for, received at `now`: delta-seconds, or an HTTP-date
/// (a date already past asks for no wait). `None` when it is neither.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for u64 is still "a very long time": the budget check stops it.
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let date = parse_http_date(value)?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// An HTTP-date in any of the three forms recipients must accept (RFC 9110, 5.6.7):
/// `Sun, 06 Nov 1994 08:49:37 GMT`, `Sunday, 06-Nov-94 08:49:37 GMT`, `Sun Nov  6 08:49:37 1994`.
/// The weekday is not checked: it adds nothing to the instant.
pub fn parse_http_date(text: &str) -> Option<SystemTime> {
    let (day, month, year, time) = match text.split_once(',') {
        Some((_, rest)) => {
            let parts: Vec<&str> = rest.split_whitespace().collect();
            match parts.as_slice() {
                [day, month, year, time, "GMT"] => (*day, *month, year.parse().ok()?, *time),
                [date, time, "GMT"] => {
                    let mut fields = date.split('-');
                    let (day, month, year) = (fields.next()?, fields.next()?, fields.next()?);
                    if fields.next().is_some() || year.len() != 2 {
                        return None;
                    }
                    let year: i64 = year.parse().ok()?;
                    // Two-digit years: the one within 50 years of now, as RFC 9110 asks; any
                    // Retry-After date is close to now.
                    (
                        day,
                        month,
                        if year < 70 { 2000 + year } else { 1900 + year },
                        *time,
                    )
                }
                _ => return None,
            }
        }
        None => {
            let parts: Vec<&str> = text.split_whitespace().collect();
            match parts.as_slice() {
                [_weekday, month, day, time, year] => (*day, *month, year.parse().ok()?, *time),
                _ => return None,
            }
        }
    };
    if !(1..=2).contains(&day.len()) || !day.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day: u32 = day.parse().ok()?;
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let mut clock = time.split(':');
    let mut field = |max: u64| -> Option<u64> {
        let text = clock.next()?;
        if text.len() != 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok().filter(|n| *n <= max)
    };
    // A leap second (60) is allowed by the grammar; it counts as the next second.
    let (hour, minute, second) = (field(23)?, field(59)?, field(60)?);
    if clock.next().is_some() || !(1970..=9999).contains(&year) {
        return None;
    }
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = u64::try_from(days_from_civil(year, month, day)).ok()?;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// What to wait before the next attempt, and why.
#[derive(Debug, Clone, Copy)]
enum Wait {
    /// The service's `Retry-After`.
    RetryAfter(Duration),
    /// Backoff with jitter.
    Backoff(Duration),
}

impl Wait {
    fn duration(self) -> Duration {
        match self {
            Wait::RetryAfter(d) | Wait::Backoff(d) => d,
        }
    }
}

/// The outcome of the last attempt, kept until it is known whether another follows.
enum Last {
    Answer(Response),
    Failure(Error),
}

/// Sends `request` until it gets a final answer, the attempts or the budget run out, or the
/// caller cancels (see the module's documentation).
pub(super) async fn run(
    channel: &Channel<'_>,
    request: HttpRequest,
    token: &Secret,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<Response> {
    let Channel {
        http,
        user_agent,
        timeout,
        retry: policy,
        limiter,
    } = *channel;
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let call = Call {
        http,
        request: &request,
        token,
        user_agent,
        correlation_id: &correlation_id,
        sink,
        cancel,
    };
    let max_attempts = policy.attempts_for(&request);
    // A budget too large to add to now is no limit at all.
    let deadline = Instant::now().checked_add(policy.budget);
    let remaining = || {
        deadline.map_or(Duration::MAX, |d| {
            d.saturating_duration_since(Instant::now())
        })
    };
    let mut number = 1;
    loop {
        if cancel.is_cancelled() {
            return Err(cancelled(&correlation_id));
        }
        if number == 1 {
            sink.verbose(&format!(
                "{} {} (correlation id {correlation_id})",
                request.method, request.url
            ));
        } else {
            sink.verbose(&format!(
                "{} {} (attempt {number} of {max_attempts}, correlation id {correlation_id})",
                request.method, request.url
            ));
        }
        // With a limiter, every attempt waits for its place in the window (and for any
        // Retry-After the service gave another request of the operation) and reports back.
        let permit = match limiter {
            Some(limiter) => match limiter.acquire(cancel).await {
                Some(permit) => Some(permit),
                None => return Err(cancelled(&correlation_id)),
            },
            None => None,
        };
        let outcome = attempt(&call, timeout.min(remaining())).await;
        if let Some(permit) = permit {
            permit.finish(match &outcome {
                Ok(response) => Outcome::of_status(response.status, response.retry_after),
                Err(_) => Outcome::Failed,
            });
        }
        let (wait, cause, last) = match outcome {
            Ok(mut response) => {
                response.attempts = number;
                if !is_retryable_status(response.status) {
                    return Ok(response);
                }
                let status = response.status;
                let (wait, cause) = match response
                    .retry_after
                    .filter(|_| honours_retry_after(status))
                {
                    Some(after) => (
                        Wait::RetryAfter(after),
                        format!("HTTP {status}, Retry-After {}", in_seconds(after)),
                    ),
                    None => (
                        Wait::Backoff(jittered(policy.backoff_ceiling(number), random_fraction())),
                        format!("HTTP {status}"),
                    ),
                };
                (wait, cause, Last::Answer(response))
            }
            Err(AttemptError {
                error,
                transient: false,
            }) => {
                // Final at once; say how many attempts it took when there were several.
                return Err(if number > 1 && !error.is_cancelled() {
                    with_summary(error, number, "", &correlation_id)
                } else {
                    error
                });
            }
            Err(AttemptError {
                error,
                transient: true,
            }) => (
                Wait::Backoff(jittered(policy.backoff_ceiling(number), random_fraction())),
                error.message().to_owned(),
                Last::Failure(error),
            ),
        };
        let left = remaining();
        let stop = if number >= max_attempts {
            Some(String::new())
        } else {
            match wait {
                Wait::RetryAfter(after) if after > left => Some(format!(
                    ": the service asked to wait {} before retrying, more than the {} left of \
                     the {}-second retry budget",
                    in_seconds(after),
                    in_seconds(left),
                    seconds(policy.budget)
                )),
                Wait::Backoff(delay) if delay >= left => Some(format!(
                    ": the {}-second retry budget is spent",
                    seconds(policy.budget)
                )),
                _ => None,
            }
        };
        if let Some(why) = stop {
            return give_up(last, number, max_attempts, why, &correlation_id);
        }
        let delay = wait.duration();
        sink.verbose(&format!(
            "Attempt {number} of {max_attempts} failed ({cause}); retrying in {} \
             (correlation id {correlation_id})",
            in_seconds(delay)
        ));
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(cancelled(&correlation_id)),
            _ = tokio::time::sleep(delay) => {}
        }
        number += 1;
    }
}

/// The outcome of the last attempt when no other follows. With retrying off (one attempt
/// allowed) it is returned as it is, so messages stay exactly as without retries.
fn give_up(
    last: Last,
    attempts: u32,
    max_attempts: u32,
    why: String,
    correlation_id: &str,
) -> Result<Response> {
    match last {
        Last::Answer(response) if max_attempts <= 1 => Ok(response),
        Last::Answer(mut response) => {
            response.gave_up = Some(why);
            Ok(response)
        }
        Last::Failure(error) if max_attempts <= 1 => Err(error),
        Last::Failure(error) => Err(with_summary(error, attempts, &why, correlation_id)),
    }
}

/// Appends "Gave up after N attempts<why> (correlation id X)." to an error's message.
fn with_summary(error: Error, attempts: u32, why: &str, correlation_id: &str) -> Error {
    let message = error.message().trim_end();
    let separator = if message.ends_with('.') { " " } else { ". " };
    let message = format!(
        "{message}{separator}Gave up after {}{why} (correlation id {correlation_id}).",
        plural(attempts, "attempt")
    );
    error.with_message(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// 1994-11-06T08:49:37Z, the example date of RFC 9110.
    const RFC_EXAMPLE: u64 = 784_111_777;

    #[test]
    fn retry_after_delta_seconds_is_that_many_seconds() {
        assert_eq!(
            parse_retry_after("120", at(0)),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", at(0)), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_too_large_for_u64_is_a_very_long_wait_not_an_error() {
        assert_eq!(
            parse_retry_after("99999999999999999999999", at(0)),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn retry_after_http_date_in_all_three_forms_counts_from_now() {
        let now = at(RFC_EXAMPLE - 30);
        for text in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                parse_retry_after(text, now),
                Some(Duration::from_secs(30)),
                "{text}"
            );
        }
    }

    #[test]
    fn retry_after_date_in_the_past_asks_for_no_wait() {
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", at(RFC_EXAMPLE + 5)),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn http_dates_across_leap_days_and_centuries_are_exact() {
        assert_eq!(
            parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(at(0))
        );
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"),
            Some(at(951_782_400))
        );
        assert_eq!(
            parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(at(1_445_412_480))
        );
    }

    #[test]
    fn retry_after_that_is_neither_seconds_nor_a_date_is_ignored() {
        for text in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun Nov  6 08:49:37",
        ] {
            assert_eq!(parse_retry_after(text, at(0)), None, "{text:?}");
        }
    }

    #[test]
    fn backoff_ceiling_doubles_from_the_base_and_stops_at_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            budget: Duration::from_secs(60),
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(700),
        };
        let ceilings: Vec<u128> = (1..=5)
            .map(|n| policy.backoff_ceiling(n).as_millis())
            .collect();
        assert_eq!(ceilings, [100, 200, 400, 700, 700]);
        assert_eq!(policy.backoff_ceiling(u32::MAX), Duration::from_millis(700));
        assert_eq!(policy.backoff_ceiling(0), Duration::from_millis(100));
    }

    #[test]
    fn jittered_wait_stays_between_zero_and_the_ceiling() {
        let ceiling = Duration::from_secs(8);
        assert_eq!(jittered(ceiling, 0.0), Duration::ZERO);
        assert_eq!(jittered(ceiling, 1.0), ceiling);
        assert_eq!(jittered(ceiling, f64::NAN), Duration::ZERO);
        assert_eq!(jittered(ceiling, -0.5), Duration::ZERO);
        for _ in 0..1000 {
            let fraction = random_fraction();
            assert!((0.0..1.0).contains(&fraction), "{fraction}");
            assert!(jittered(ceiling, fraction) <= ceiling);
        }
    }

    #[test]
    fn random_fractions_are_spread_not_constant() {
        let draws: Vec<f64> = (0..200).map(|_| random_fraction()).collect();
        assert!(draws.iter().any(|f| *f < 0.25) && draws.iter().any(|f| *f > 0.75));
    }

    #[test]
    fn only_get_and_put_are_retried() {
        let policy = RetryPolicy::default();
        let request = |method: reqwest::Method| HttpRequest {
            method,
            url: url::Url::parse("https://licensing.m365.microsoft.com/v1.0/policies").unwrap(),
            body: None,
        };
        assert_eq!(policy.attempts_for(&request(reqwest::Method::GET)), 4);
        assert_eq!(policy.attempts_for(&request(reqwest::Method::PUT)), 4);
        for method in [
            reqwest::Method::POST,
            reqwest::Method::PATCH,
            reqwest::Method::DELETE,
            reqwest::Method::HEAD,
            reqwest::Method::OPTIONS,
        ] {
            assert_eq!(policy.attempts_for(&request(method.clone())), 1, "{method}");
        }
    }

    #[test]
    fn retryable_statuses_are_throttling_and_server_faults_only() {
        let retryable: Vec<u16> = (100..600).filter(|s| is_retryable_status(*s)).collect();
        assert_eq!(retryable, [429, 500, 502, 503, 504]);
        assert!(honours_retry_after(429) && honours_retry_after(503));
        assert!(!honours_retry_after(500) && !honours_retry_after(502));
    }

    #[test]
    fn summary_is_a_sentence_after_the_message() {
        let error = Error::new(
            crate::error::ErrorKind::Network,
            "Unable to connect: refused",
        );
        let error = with_summary(error, 3, "", "c-1");
        assert_eq!(
            error.message(),
            "Unable to connect: refused. Gave up after 3 attempts (correlation id c-1)."
        );
    }
}
