//! The wall clock, in the units the emulator stores: Unix seconds and milliseconds, and RFC 3339
//! text for people.

use std::time::{SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A time that cannot be written as RFC 3339 (before year 0 or after 9999).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not a time RFC 3339 can express")]
pub struct ClockError(pub i64);

/// Now, in milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// Now, in whole seconds since the Unix epoch.
pub fn now_s() -> i64 {
    now_ms().div_euclid(1000)
}

/// `secs` since the Unix epoch as RFC 3339 UTC text (`2025-01-31T12:00:00Z`).
pub fn rfc3339(secs: i64) -> Result<String, ClockError> {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|time| time.format(&Rfc3339).ok())
        .ok_or(ClockError(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_utc_with_whole_seconds() {
        assert_eq!(rfc3339(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_738_324_800).unwrap(), "2025-01-31T12:00:00Z");
    }
}
