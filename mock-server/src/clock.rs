//! The mock clock: real time plus an offset that only moves forward.
//!
//! Every lifetime in the fake (codes, tokens, refresh tokens, the customer-service window, daily
//! quotas) is measured on this clock, so a test moves time forward with
//! [`MockServer::advance_clock`](crate::MockServer::advance_clock) instead of sleeping. A frozen
//! clock (see [`MockServerBuilder::frozen_clock`](crate::MockServerBuilder::frozen_clock)) does not
//! tick at all, for tests that check exact expiry boundaries.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix seconds of the machine clock.
pub(crate) fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The clock never reads past the end of year 9999 (nor before 1970), so adding a lifetime to
/// "now" can never overflow however far a test moves it.
pub(crate) const MAX_TIME: i64 = 253_402_300_799;

#[derive(Debug)]
pub(crate) struct MockClock {
    /// `Some(t)`: the clock stands still at `t` (plus the offset).
    frozen_at: Option<i64>,
    offset: AtomicI64,
}

impl MockClock {
    pub(crate) fn new(frozen_at: Option<i64>) -> Self {
        Self {
            frozen_at,
            offset: AtomicI64::new(0),
        }
    }

    /// Unix seconds on the mock clock.
    pub(crate) fn now(&self) -> i64 {
        let base = self.frozen_at.unwrap_or_else(system_now);
        base.saturating_add(self.offset.load(Ordering::Relaxed))
            .clamp(0, MAX_TIME)
    }

    /// Moves the clock forward; it never goes back.
    pub(crate) fn advance(&self, secs: u64) {
        let secs = i64::try_from(secs).unwrap_or(i64::MAX);
        // fetch_update never fails with a closure that always returns Some.
        let _ = self
            .offset
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |o| {
                Some(o.saturating_add(secs))
            });
    }

    /// Seconds the clock has been moved forward in total.
    pub(crate) fn offset(&self) -> i64 {
        self.offset.load(Ordering::Relaxed)
    }

    pub(crate) fn reset(&self) {
        self.offset.store(0, Ordering::Relaxed);
    }
}

/// The Beijing calendar day of a unix time: WeChat's daily quotas reset at midnight UTC+8.
pub(crate) fn beijing_day(unix: i64) -> i64 {
    (unix + 8 * 3600).div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_advanced() {
        let clock = MockClock::new(Some(1_700_000_000));
        assert_eq!(clock.now(), 1_700_000_000);
        clock.advance(90);
        assert_eq!(clock.now(), 1_700_000_090);
        assert_eq!(clock.offset(), 90);
        clock.advance(u64::MAX);
        assert_eq!(clock.now(), MAX_TIME);
        assert_eq!(MockClock::new(Some(-5)).now(), 0);
        clock.reset();
        assert_eq!(clock.now(), 1_700_000_000);
    }

    #[test]
    fn running_clock_follows_real_time() {
        let clock = MockClock::new(None);
        let before = system_now();
        clock.advance(3600);
        let now = clock.now();
        assert!(now >= before + 3600 && now <= system_now() + 3600);
    }

    #[test]
    fn quota_days_turn_at_beijing_midnight() {
        // 2024-01-01T15:59:59Z is 23:59:59 in Beijing; one second later is the next day there.
        let before = 1_704_124_799;
        assert_eq!(beijing_day(before) + 1, beijing_day(before + 1));
        assert_eq!(beijing_day(before - 3600), beijing_day(before));
    }
}
