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
//! The code is split by role: [`config`] holds the knobs as configured (the JSON, the flags'
//! target) and their checks; [`engine`] decides, request by request, what the knobs do;
//! [`target`] reads the item a request is about from its path; [`middleware`] applies the
//! decision to the licensing API's requests. Every public item is re-exported here.
//!
//! The middleware also counts every licensing request
//! ([`RequestCounts`](crate::request_counts::RequestCounts), `GET /admin/requests`), faulted ones
//! included, since it is the one place every licensing request passes first.

pub mod config;
pub mod engine;
pub mod middleware;
pub mod target;

pub use config::{
    ErrorFault, FailItems, FaultConfig, FaultConfigError, Latency, MethodScope, Throttle, Trigger,
    DEFAULT_RETRY_AFTER_S, ERROR_STATUSES, FAIL_ITEM_STATUSES, MAX_FAIL_ITEMS,
};
pub use engine::{Action, Decision, FaultStatus, Faults, Injected};
pub use middleware::inject;
pub use target::TargetItem;
