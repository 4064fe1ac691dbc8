//! Retry dedupe: WeChat sends each push up to three times; the handler runs once.

mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::error::Error as StdError;
use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;

pub use memory::MemoryDedupeStore;
#[cfg(feature = "redis")]
pub use redis::RedisDedupeStore;

/// What the first delivery of a push was answered with, kept for its retries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoredAnswer {
    /// `success`: no passive reply (the handler had nothing to say, was late, or panicked).
    Success,
    /// The plaintext reply document. It is encrypted again for each retry, under that retry's
    /// nonce.
    Reply(String),
}

/// The state of a dedupe key after [`DedupeStore::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// The key was free and now belongs to the caller: run the handler.
    New,
    /// Another delivery of the same push is being answered right now.
    InFlight,
    /// The push was answered already.
    Done(StoredAnswer),
}

/// A failure of the store itself (Redis unreachable…). The callback then runs the handler
/// anyway: answering twice beats not answering.
pub type StoreError = Box<dyn StdError + Send + Sync>;

/// Where dedupe keys live: in memory ([`MemoryDedupeStore`], the default) or shared by several
/// instances (`RedisDedupeStore`, feature `redis`).
///
/// Keys come from [`Message::dedupe_key`](wechat_types::xml::Message::dedupe_key) (and
/// `nonce:…` keys when replay protection is on). A key lives for `ttl` from its claim; WeChat
/// retries within about 15 seconds.
#[async_trait]
pub trait DedupeStore: Send + Sync + Debug + 'static {
    /// Atomically claims `key` for `ttl` if nobody holds it, else tells its state.
    async fn claim(&self, key: &str, ttl: Duration) -> Result<Claim, StoreError>;

    /// Records the answer for a key claimed with [`Claim::New`], for its retries.
    async fn complete(
        &self,
        key: &str,
        answer: StoredAnswer,
        ttl: Duration,
    ) -> Result<(), StoreError>;
}

/// The callback's dedupe store: the default in-memory one, called directly, or any other
/// through the trait. The direct calls spare every push two boxed futures.
#[derive(Clone)]
pub(crate) enum Dedupe {
    Memory(std::sync::Arc<MemoryDedupeStore>),
    Shared(std::sync::Arc<dyn DedupeStore>),
}

impl Dedupe {
    /// Claims `key` for a push that arrived at `now` (the default store reads no clock of its
    /// own; its key's TTL then counts from the arrival, microseconds before the claim).
    pub(crate) async fn claim_at(
        &self,
        key: &str,
        ttl: Duration,
        now: tokio::time::Instant,
    ) -> Result<Claim, StoreError> {
        match self {
            Dedupe::Memory(store) => Ok(store.claim_now(key, ttl, now)),
            Dedupe::Shared(store) => store.claim(key, ttl).await,
        }
    }

    pub(crate) async fn complete(
        &self,
        key: &str,
        answer: StoredAnswer,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        match self {
            Dedupe::Memory(store) => {
                store.complete_now(key, answer);
                Ok(())
            }
            Dedupe::Shared(store) => store.complete(key, answer, ttl).await,
        }
    }

    /// The store as a trait object (the nonce store shares it).
    pub(crate) fn as_shared(&self) -> std::sync::Arc<dyn DedupeStore> {
        match self {
            Dedupe::Memory(store) => store.clone(),
            Dedupe::Shared(store) => store.clone(),
        }
    }
}

/// Shows the store itself, as a configuration printed before this type existed did.
impl std::fmt::Debug for Dedupe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dedupe::Memory(store) => store.fmt(f),
            Dedupe::Shared(store) => store.fmt(f),
        }
    }
}
