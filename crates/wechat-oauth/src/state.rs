//! Issuing and checking the OAuth `state`: the CSRF and login-fixation defence WeChat's
//! documentation asks for and no other SDK provides.

use std::sync::Arc;
use std::time::Duration;

use wechat_client::{Clock, SystemClock};
use wechat_crypto::{StateError, StateKey};

/// Issues `state` values bound to a browser session and an expiry, and checks them when the
/// callback comes back.
///
/// A state from [`StateGuard::issue`] is an HMAC (under a [`StateKey`]) of the session id, the
/// expiry and a random nonce, so a callback carries proof that *this* session started the
/// authorization, recently. An attacker cannot make a victim's browser finish an authorization
/// the attacker started (login CSRF), and a leaked callback URL stops working once its state
/// expires. Nothing is stored on the server: any instance holding the same key can verify.
///
/// The session id must be something the attacker cannot learn or set, typically the id in a
/// `HttpOnly` session cookie.
///
/// ```
/// use std::time::Duration;
/// use wechat_crypto::{StateError, StateKey};
/// use wechat_oauth::StateGuard;
///
/// let guard = StateGuard::new(StateKey::generate(), Duration::from_secs(600));
/// let state = guard.issue("session-cookie-value");
/// assert!(guard.verify(&state, "session-cookie-value").is_ok());
/// assert_eq!(guard.verify(&state, "another-session"), Err(StateError::BadMac));
/// ```
#[derive(Debug, Clone)]
pub struct StateGuard {
    key: StateKey,
    ttl_secs: i64,
    clock: Arc<dyn Clock>,
}

impl StateGuard {
    /// A guard whose states are valid for `ttl` on the system clock. Ten minutes covers a user
    /// reading the consent page; WeChat's code lives five minutes after it.
    pub fn new(key: StateKey, ttl: Duration) -> Self {
        Self {
            key,
            ttl_secs: i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
            clock: Arc::new(SystemClock),
        }
    }

    /// The same guard on another clock (tests; or the client's, see
    /// [`OAuthClient::state_guard`](crate::OAuthClient::state_guard)).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// A fresh state for `session_id`: 64 characters of `[0-9a-f]`, valid for the guard's TTL.
    pub fn issue(&self, session_id: &str) -> String {
        let expires_at = self.clock.now().saturating_add(self.ttl_secs);
        self.key.issue_with_random_nonce(session_id, expires_at)
    }

    /// Checks the state of a callback against the session it arrived in.
    ///
    /// [`StateError::BadMac`] means an altered state, one issued under another key, or one
    /// issued for another session (the CSRF case); [`StateError::Expired`] a state older than
    /// the TTL; [`StateError::Malformed`] anything this guard never issues.
    pub fn verify(&self, state: &str, session_id: &str) -> Result<(), StateError> {
        self.key.verify(state, session_id, self.clock.now())
    }
}

#[cfg(test)]
mod tests {
    use wechat_client::ManualClock;

    use super::*;

    fn guard(clock: &ManualClock) -> StateGuard {
        StateGuard::new(StateKey::new([5; 32]), Duration::from_secs(600))
            .with_clock(Arc::new(clock.clone()))
    }

    #[test]
    fn a_state_lives_exactly_its_ttl() {
        let clock = ManualClock::new(1_700_000_000);
        let guard = guard(&clock);
        let state = guard.issue("sid");
        assert!(crate::validate_state(&state).is_ok());
        clock.advance(599);
        assert_eq!(guard.verify(&state, "sid"), Ok(()));
        clock.advance(1);
        assert_eq!(
            guard.verify(&state, "sid"),
            Err(StateError::Expired {
                expires_at: 1_700_000_600
            })
        );
    }

    #[test]
    fn foreign_tampered_and_malformed_states_are_refused() {
        let clock = ManualClock::new(0);
        let guard = guard(&clock);
        let state = guard.issue("victim");
        assert_eq!(guard.verify(&state, "attacker"), Err(StateError::BadMac));
        let other_key = StateGuard::new(StateKey::new([6; 32]), Duration::from_secs(600))
            .with_clock(Arc::new(clock.clone()));
        assert_eq!(other_key.verify(&state, "victim"), Err(StateError::BadMac));
        assert_eq!(guard.verify("123", "victim"), Err(StateError::Malformed));
        // Moving the expiry forward breaks the MAC rather than extending the state's life.
        let mut forged = state.into_bytes();
        forged[0] = b'7';
        let forged = String::from_utf8(forged).unwrap();
        assert_eq!(guard.verify(&forged, "victim"), Err(StateError::BadMac));
    }

    #[test]
    fn huge_ttls_saturate_instead_of_overflowing() {
        let clock = ManualClock::new(i64::MAX - 5);
        let guard = StateGuard::new(StateKey::new([5; 32]), Duration::MAX)
            .with_clock(Arc::new(clock.clone()));
        let state = guard.issue("s");
        assert_eq!(guard.verify(&state, "s"), Ok(()));
    }
}
