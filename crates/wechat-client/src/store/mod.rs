//! Where credentials live between fetches: a [`TokenStore`] keeps the access_token and the
//! jsapi_ticket of each app, and a lock with a lease so that only one instance fetches at a time.
//!
//! [`MemoryStore`] serves one process; `RedisStore` (feature `redis`) serves every instance of an
//! app. The policy (when to refresh, who fetches, what to invalidate) lives in the providers; a
//! store only keeps values and answers atomically.

mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use wechat_types::AppId;

pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::RedisStore;

/// Which credential of an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialKind {
    /// The base `access_token`.
    AccessToken,
    /// The JS-SDK `jsapi_ticket`.
    JsapiTicket,
}

impl CredentialKind {
    /// The name used in store keys and messages: `access_token`, `jsapi_ticket`.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::AccessToken => "access_token",
            CredentialKind::JsapiTicket => "jsapi_ticket",
        }
    }
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One credential of one app: the unit a store keeps and locks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialKey {
    appid: AppId,
    kind: CredentialKind,
}

impl CredentialKey {
    /// The `kind` credential of `appid`.
    pub fn new(appid: AppId, kind: CredentialKind) -> Self {
        Self { appid, kind }
    }

    /// The app.
    pub fn appid(&self) -> &AppId {
        &self.appid
    }

    /// The credential.
    pub fn kind(&self) -> CredentialKind {
        self.kind
    }
}

/// A credential as stored: the secret, when it was obtained and when it expires (Unix seconds on
/// the provider's [`Clock`](crate::Clock)). `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCredential {
    secret: String,
    obtained_at: i64,
    expires_at: i64,
}

impl StoredCredential {
    /// A credential obtained at `obtained_at` and valid until `expires_at`.
    pub fn new(secret: impl Into<String>, obtained_at: i64, expires_at: i64) -> Self {
        Self {
            secret: secret.into(),
            obtained_at,
            expires_at,
        }
    }

    /// The secret value. Call this only where it goes on the wire or into the store.
    pub fn expose_secret(&self) -> &str {
        &self.secret
    }

    /// The secret value, by move.
    pub fn into_secret(self) -> String {
        self.secret
    }

    /// When it was obtained (Unix seconds).
    pub fn obtained_at(&self) -> i64 {
        self.obtained_at
    }

    /// When it expires (Unix seconds).
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// Seconds between obtaining and expiry (0 if the values are inconsistent).
    pub fn lifetime(&self) -> i64 {
        self.expires_at.saturating_sub(self.obtained_at).max(0)
    }

    /// True while WeChat still accepts it.
    pub fn is_valid_at(&self, now: i64) -> bool {
        now < self.expires_at
    }

    /// True while it need not be refreshed: more than `margin` before expiry. The margin is
    /// capped at half the lifetime, so a credential obtained with a short remaining lifetime
    /// (stable_token answers as little as 300 s) is used for a while instead of being fetched
    /// again on every call.
    pub fn is_fresh_at(&self, now: i64, margin: Duration) -> bool {
        let margin = i64::try_from(margin.as_secs())
            .unwrap_or(i64::MAX)
            .min(self.lifetime() / 2);
        now < self.expires_at.saturating_sub(margin)
    }

    /// The text form stores keep: `obtained_at:expires_at:secret`.
    ///
    /// ```
    /// use wechat_client::store::StoredCredential;
    ///
    /// let credential = StoredCredential::new("T:1", 100, 7300);
    /// assert_eq!(credential.encode(), "100:7300:T:1");
    /// assert_eq!(StoredCredential::decode("100:7300:T:1"), Some(credential));
    /// assert_eq!(StoredCredential::decode("garbage"), None);
    /// ```
    pub fn encode(&self) -> String {
        format!("{}:{}:{}", self.obtained_at, self.expires_at, self.secret)
    }

    /// Reads [`StoredCredential::encode`]'s form; `None` if it is not one.
    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, ':');
        let obtained_at = parts.next()?.parse().ok()?;
        let expires_at = parts.next()?.parse().ok()?;
        let secret = parts.next()?;
        Some(Self::new(secret, obtained_at, expires_at))
    }
}

impl fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCredential")
            .field("secret", &"[redacted]")
            .field("obtained_at", &self.obtained_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Proof of holding a lock: only its owner may release it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LockOwner(String);

impl LockOwner {
    /// A new random owner token (128 bits, hex).
    pub fn random() -> Self {
        let value: u128 = rand::random();
        Self(format!("{value:032x}"))
    }

    /// An owner token with a chosen value (for stores that receive one from elsewhere).
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The token.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What kind of store failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The backend failed (Redis unreachable, timed out, refused the command).
    Backend,
    /// The store held a value this crate did not write.
    Corrupt,
    /// Another instance held the refresh lock for longer than a waiter may wait.
    LockTimeout,
    /// A refresh stopped without an answer (its task panicked or the runtime shut down).
    Interrupted,
}

/// A [`TokenStore`] failure, with its cause through `source()`. Never carries a secret.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    kind: StoreErrorKind,
    message: Cow<'static, str>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// A failure of `kind` described by `message`.
    pub fn new(kind: StoreErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// A backend failure described by `message` and caused by `source`.
    pub fn backend(
        message: impl Into<Cow<'static, str>>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            kind: StoreErrorKind::Backend,
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// What kind of failure.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

/// Keeps credentials and refresh locks, shared by every provider of an app.
///
/// Every method is a single atomic step; implementations for shared backends must keep them
/// atomic across processes (Redis does it with `SET NX PX` and Lua scripts).
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The stored credential, expired or not; `None` when there is none.
    async fn get(&self, key: &CredentialKey) -> Result<Option<StoredCredential>, StoreError>;

    /// Stores `credential`, replacing any other. A store may drop it after its lifetime.
    async fn put(
        &self,
        key: &CredentialKey,
        credential: &StoredCredential,
    ) -> Result<(), StoreError>;

    /// Removes the credential only if its secret is still `secret`: a fresher one stored by
    /// someone else is kept. Returns true when it removed it.
    async fn invalidate_if_current(
        &self,
        key: &CredentialKey,
        secret: &str,
    ) -> Result<bool, StoreError>;

    /// Takes the refresh lock of `key` for `lease` if nobody holds it (`SET NX PX`). Returns the
    /// owner token, or `None` when someone else holds it. The lock frees itself after `lease`,
    /// so a holder that dies blocks nobody for longer.
    async fn acquire_lock(
        &self,
        key: &CredentialKey,
        lease: Duration,
    ) -> Result<Option<LockOwner>, StoreError>;

    /// Releases the lock only if `owner` still holds it (its lease may have passed and someone
    /// else taken it). Returns true when it released it.
    async fn release_lock(
        &self,
        key: &CredentialKey,
        owner: &LockOwner,
    ) -> Result<bool, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_keeps_a_margin_capped_at_half_the_lifetime() {
        let margin = Duration::from_secs(300);
        let token = StoredCredential::new("t", 1000, 8200);
        assert!(token.is_fresh_at(7899, margin));
        assert!(!token.is_fresh_at(7900, margin));
        assert!(token.is_valid_at(8199));
        assert!(!token.is_valid_at(8200));
        // stable_token may hand out a token with 300 s left: use it for 150 s.
        let short = StoredCredential::new("t", 1000, 1300);
        assert!(short.is_fresh_at(1149, margin));
        assert!(!short.is_fresh_at(1150, margin));
    }

    #[test]
    fn debug_hides_the_secret() {
        let token = StoredCredential::new("very-secret", 1, 2);
        assert!(!format!("{token:?}").contains("very-secret"));
    }

    #[test]
    fn encoding_round_trips_secrets_with_colons() {
        let token = StoredCredential::new("a:b:c", -5, 10);
        assert_eq!(StoredCredential::decode(&token.encode()), Some(token));
        assert_eq!(StoredCredential::decode("1:x:secret"), None);
        assert_eq!(StoredCredential::decode("1:2"), None);
    }

    proptest::proptest! {
        #[test]
        fn any_credential_round_trips(secret in ".*", obtained in proptest::num::i64::ANY, expires in proptest::num::i64::ANY) {
            let credential = StoredCredential::new(secret, obtained, expires);
            proptest::prop_assert_eq!(StoredCredential::decode(&credential.encode()), Some(credential));
        }

        #[test]
        fn decoding_anything_never_panics(text in ".*") {
            let _ = StoredCredential::decode(&text);
        }

        #[test]
        fn freshness_never_panics(obtained in proptest::num::i64::ANY, expires in proptest::num::i64::ANY, now in proptest::num::i64::ANY, margin in proptest::num::u64::ANY) {
            let credential = StoredCredential::new("t", obtained, expires);
            let fresh = credential.is_fresh_at(now, Duration::from_secs(margin));
            proptest::prop_assert!(!fresh || credential.is_valid_at(now));
        }
    }

    #[test]
    fn owners_are_unique() {
        assert_ne!(LockOwner::random(), LockOwner::random());
        assert_eq!(LockOwner::random().as_str().len(), 32);
    }
}
