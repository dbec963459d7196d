//! An app-only access token and when to renew it.

use std::cmp::min;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::auth::tokens::REFRESH_MARGIN;
use crate::secret::Secret;

/// A failed renewal is not tried again for this long while the token held is still usable, so a
/// bulk run's many requests do not each wait on an authority that is down.
pub(crate) const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);

/// An access token from the authority or a managed identity endpoint. It lives in memory only:
/// app-only tokens are never written to the token cache.
#[derive(Debug, Clone)]
pub struct AppToken {
    access: Secret,
    expires_at: SystemTime,
    obtained: Instant,
    lifetime: Duration,
}

impl AppToken {
    /// A token that expires at `expires_at` (one already past counts as expiring now).
    pub fn new(access: Secret, expires_at: SystemTime) -> Self {
        let lifetime = expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        AppToken {
            access,
            expires_at,
            obtained: Instant::now(),
            lifetime,
        }
    }

    /// The token, for the `Authorization` header.
    pub fn access(&self) -> &Secret {
        &self.access
    }

    /// When it expires.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// When it expires, in Unix seconds (`expiresOn` of a connection).
    pub fn expires_on(&self) -> u64 {
        self.expires_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    /// How long before expiry it is renewed: [`REFRESH_MARGIN`], or half its lifetime when
    /// that is shorter, so a short-lived token is still used for a while rather than renewed
    /// on every request.
    fn margin(&self) -> Duration {
        min(REFRESH_MARGIN, self.lifetime / 2)
    }

    /// How little time left still makes the token worth sending when its renewal failed: 30
    /// seconds, or a quarter of its lifetime when that is shorter.
    fn floor(&self) -> Duration {
        min(RETRY_AFTER_FAILURE, self.lifetime / 4)
    }

    /// Time left on the monotonic clock (the wall clock may jump).
    fn left(&self, now: Instant) -> Duration {
        (self.obtained + self.lifetime).saturating_duration_since(now)
    }

    /// True once it is within its renewal margin.
    pub fn needs_renewal(&self) -> bool {
        self.needs_renewal_at(Instant::now())
    }

    pub(crate) fn needs_renewal_at(&self, now: Instant) -> bool {
        self.left(now) <= self.margin()
    }

    /// True while it can still be sent although it is due for renewal.
    pub(crate) fn usable_at(&self, now: Instant) -> bool {
        self.left(now) > self.floor()
    }

    /// How long to wait before trying again after a failed renewal: [`RETRY_AFTER_FAILURE`], or
    /// less for a short-lived token.
    pub(crate) fn retry_delay(&self) -> Duration {
        self.floor()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(lifetime: Duration) -> AppToken {
        AppToken::new(Secret::new("t").unwrap(), SystemTime::now() + lifetime)
    }

    #[test]
    fn an_hour_token_is_renewed_five_minutes_before_expiry() {
        let hour = token(Duration::from_secs(3600));
        let start = hour.obtained;
        assert!(!hour.needs_renewal_at(start));
        assert!(!hour.needs_renewal_at(start + Duration::from_secs(3600 - 301)));
        assert!(hour.needs_renewal_at(start + Duration::from_secs(3600 - 299)));
        assert!(hour.usable_at(start + Duration::from_secs(3600 - 31)));
        assert!(!hour.usable_at(start + Duration::from_secs(3600 - 29)));
    }

    #[test]
    fn a_short_token_is_renewed_at_half_life() {
        let short = token(Duration::from_secs(60));
        let start = short.obtained;
        assert!(!short.needs_renewal_at(start + Duration::from_secs(29)));
        assert!(short.needs_renewal_at(start + Duration::from_secs(31)));
        // A quarter of the lifetime, which was measured a moment after the token was made.
        let delay = short.retry_delay();
        assert!(
            delay <= Duration::from_secs(15) && delay > Duration::from_millis(14_900),
            "{delay:?}"
        );
    }

    #[test]
    fn an_expired_token_needs_renewal_and_is_not_usable() {
        let past = AppToken::new(
            Secret::new("t").unwrap(),
            SystemTime::now() - Duration::from_secs(5),
        );
        assert!(past.needs_renewal());
        assert!(!past.usable_at(Instant::now()));
        assert!(!format!("{past:?}").contains("\"t\""));
    }
}
