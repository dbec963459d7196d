//! Counts of the licensing requests, by method and path (`GET /admin/requests`), so a test can
//! check how often a client tried each item, and by which prefix.
//!
//! [`RequestCounts`] counts every licensing request by method and path as sent (`/v1/...` and
//! `/v1.0/...` are separate keys); the licensing middleware ([`crate::faults::inject`]) records
//! each one before any fault applies.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use axum::http::Method;
use serde::Serialize;

/// The most distinct method-and-path keys [`RequestCounts`] keeps; requests beyond them are
/// counted as `untracked`.
pub const MAX_COUNTED_REQUESTS: usize = 100_000;

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

#[cfg(test)]
mod tests {
    use super::*;

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
