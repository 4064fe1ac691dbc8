//! Properties of issued states: they always verify for their session, and never after any
//! change.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use wechat_client::ManualClock;
use wechat_crypto::{StateError, StateKey};
use wechat_oauth::{Callback, StateGuard, validate_state};

fn guard(key: [u8; 32], now: i64) -> StateGuard {
    StateGuard::new(StateKey::new(key), Duration::from_secs(600))
        .with_clock(Arc::new(ManualClock::new(now)))
}

proptest! {
    #[test]
    fn issued_states_always_verify(
        key in any::<[u8; 32]>(),
        session in ".{0,64}",
        now in -1_000_000_000_000i64..1_000_000_000_000,
    ) {
        let guard = guard(key, now);
        let state = guard.issue(&session);
        prop_assert!(validate_state(&state).is_ok());
        prop_assert_eq!(guard.verify(&state, &session), Ok(()));
        // And through the callback, as it comes back from WeChat.
        let callback = Callback::from_query(&format!("code=c&state={state}")).unwrap();
        prop_assert_eq!(guard.verify(callback.state(), &session), Ok(()));
    }

    #[test]
    fn any_change_to_one_byte_never_verifies(
        key in any::<[u8; 32]>(),
        session in "[a-zA-Z0-9]{1,32}",
        index in any::<prop::sample::Index>(),
        replacement in any::<char>(),
    ) {
        let guard = guard(key, 1_700_000_000);
        let state = guard.issue(&session);
        let at = index.index(state.len());
        let original = state.as_bytes()[at] as char;
        prop_assume!(replacement != original);
        let mut changed = String::with_capacity(state.len() + 4);
        changed.push_str(&state[..at]);
        changed.push(replacement);
        changed.push_str(&state[at + 1..]);
        prop_assert!(guard.verify(&changed, &session).is_err());
    }

    #[test]
    fn another_session_never_verifies(
        key in any::<[u8; 32]>(),
        session in ".{0,32}",
        other in ".{0,32}",
    ) {
        prop_assume!(session != other);
        let guard = guard(key, 0);
        let state = guard.issue(&session);
        prop_assert_eq!(guard.verify(&state, &other), Err(StateError::BadMac));
    }

    #[test]
    fn callback_parsing_never_panics(query in ".{0,300}") {
        let _ = Callback::from_query(&query);
    }
}
