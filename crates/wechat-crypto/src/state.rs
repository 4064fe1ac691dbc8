//! The OAuth `state` parameter as a MAC: it binds the browser session, an expiry and a nonce, so a
//! callback can prove the authorization was started by this session (CSRF / login fixation) and
//! recently.
//!
//! Format (64 lowercase hex characters, well within WeChat's `a-zA-Z0-9`, ≤128 bytes):
//! `hex(expires_at as u64 BE, 8 bytes) ‖ hex(nonce, 8 bytes) ‖ hex(tag, 16 bytes)`, where
//! `tag = HMAC-SHA256(key, DOMAIN ‖ expires_at ‖ nonce ‖ session_id)[..16]`. The session id is not
//! in the state; it is bound through the tag, so it never travels through WeChat.

use std::fmt;

use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{StateError, hex};

/// Separates this MAC from any other use of the same key.
const DOMAIN: &[u8] = b"wechat-rs oauth state v1\0";
/// A 128-bit tag: the HMAC-SHA256-128 of RFC 4868.
const TAG_LEN: usize = 16;
/// expires_at (8) ‖ nonce (8) ‖ tag (16).
const STATE_BYTES: usize = 8 + 8 + TAG_LEN;

/// The secret key that signs and checks OAuth `state` values (HMAC-SHA256).
///
/// Every instance that receives OAuth callbacks needs the same key. `Debug` prints `[redacted]`.
///
/// ```
/// use wechat_crypto::{StateError, StateKey};
///
/// let key = StateKey::generate();
/// let state = key.issue("session-42", 1_700_000_300, [1, 2, 3, 4, 5, 6, 7, 8]);
/// assert!(state.len() <= 128 && state.bytes().all(|b| b.is_ascii_alphanumeric()));
///
/// assert_eq!(key.verify(&state, "session-42", 1_700_000_000), Ok(()));
/// assert_eq!(key.verify(&state, "session-43", 1_700_000_000), Err(StateError::BadMac));
/// assert_eq!(
///     key.verify(&state, "session-42", 1_700_000_300),
///     Err(StateError::Expired { expires_at: 1_700_000_300 })
/// );
/// ```
#[derive(Clone)]
pub struct StateKey {
    /// The HMAC with the key already absorbed, cloned per use.
    mac: Hmac<Sha256>,
}

impl fmt::Debug for StateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StateKey([redacted])")
    }
}

impl StateKey {
    /// A key from 32 secret bytes (for instance loaded from configuration, shared by instances).
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            // HMAC takes keys of any length, so this cannot fail.
            mac: <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC accepts any key length"),
        }
    }

    /// A fresh random key from the OS. States it issues verify only under this same key.
    ///
    /// # Panics
    ///
    /// If the OS random source is unavailable.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self::new(key)
    }

    /// Issues a state for `session_id`, valid until `expires_at` (unix seconds, exclusive).
    /// `nonce` makes every state unique; use [`StateKey::issue_with_random_nonce`] unless you
    /// need a fixed one.
    pub fn issue(&self, session_id: &str, expires_at: i64, nonce: [u8; 8]) -> String {
        let expiry = expires_at.to_be_bytes();
        let tag = self.tag(session_id, &expiry, &nonce);
        let mut state = String::with_capacity(STATE_BYTES * 2);
        hex::push(&mut state, &expiry);
        hex::push(&mut state, &nonce);
        hex::push(&mut state, &tag);
        state
    }

    /// [`StateKey::issue`] with a random nonce.
    pub fn issue_with_random_nonce(&self, session_id: &str, expires_at: i64) -> String {
        let mut nonce = [0u8; 8];
        rand::thread_rng().fill_bytes(&mut nonce);
        self.issue(session_id, expires_at, nonce)
    }

    /// Checks a state that came back on the OAuth callback: it must be one this key issued, for
    /// this `session_id`, and `now` (unix seconds) must be before its expiry. The tag is compared
    /// in constant time, and the expiry is read only once the tag proves it authentic.
    pub fn verify(&self, state: &str, session_id: &str, now: i64) -> Result<(), StateError> {
        let raw = hex::decode_lower::<STATE_BYTES>(state).ok_or(StateError::Malformed)?;
        let (expiry, rest) = raw.split_at(8);
        let (nonce, tag) = rest.split_at(8);
        let expected = self.tag(session_id, expiry, nonce);
        if !bool::from(expected.ct_eq(tag)) {
            return Err(StateError::BadMac);
        }
        let mut be = [0u8; 8];
        be.copy_from_slice(expiry);
        let expires_at = i64::from_be_bytes(be);
        if now >= expires_at {
            return Err(StateError::Expired { expires_at });
        }
        Ok(())
    }

    fn tag(&self, session_id: &str, expiry: &[u8], nonce: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = self.mac.clone();
        mac.update(DOMAIN);
        mac.update(expiry);
        mac.update(nonce);
        mac.update(session_id.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&full[..TAG_LEN]);
        tag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer_pins_the_format() {
        // Changing the format or the MAC input breaks states issued by running deployments.
        let key = StateKey::new([7; 32]);
        let state = key.issue("sid", 0x0102_0304_0506_0708, [9; 8]);
        assert_eq!(&state[..32], "01020304050607080909090909090909");
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&[7; 32]).unwrap();
        mac.update(b"wechat-rs oauth state v1\0");
        mac.update(&0x0102_0304_0506_0708i64.to_be_bytes());
        mac.update(&[9; 8]);
        mac.update(b"sid");
        assert_eq!(
            &state[32..],
            hex::encode(&mac.finalize().into_bytes()[..16])
        );
    }

    #[test]
    fn another_key_or_session_is_bad_mac() {
        let state = StateKey::new([1; 32]).issue("s", 100, [0; 8]);
        assert_eq!(
            StateKey::new([2; 32]).verify(&state, "s", 0),
            Err(StateError::BadMac)
        );
        assert_eq!(
            StateKey::new([1; 32]).verify(&state, "s2", 0),
            Err(StateError::BadMac)
        );
        assert_eq!(StateKey::new([1; 32]).verify(&state, "s", 99), Ok(()));
    }

    #[test]
    fn negative_and_extreme_expiries_round_trip() {
        let key = StateKey::new([3; 32]);
        for expires_at in [i64::MIN, -1, 0, i64::MAX] {
            let state = key.issue("s", expires_at, [1; 8]);
            assert_eq!(
                key.verify(&state, "s", expires_at),
                Err(StateError::Expired { expires_at })
            );
            if expires_at != i64::MIN {
                assert_eq!(key.verify(&state, "s", expires_at - 1), Ok(()));
            }
        }
    }

    #[test]
    fn malformed_states() {
        let key = StateKey::new([3; 32]);
        let good = key.issue("s", 10, [1; 8]);
        for bad in [
            String::new(),
            good[..63].to_owned(),
            format!("{good}0"),
            good.to_uppercase(),
            good.replacen(&good[..1], "g", 1),
        ] {
            assert_eq!(
                key.verify(&bad, "s", 0),
                Err(StateError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn random_nonces_differ_and_debug_is_redacted() {
        let key = StateKey::generate();
        assert_ne!(
            key.issue_with_random_nonce("s", 10),
            key.issue_with_random_nonce("s", 10)
        );
        assert_eq!(format!("{key:?}"), "StateKey([redacted])");
    }
}
