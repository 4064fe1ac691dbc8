//! The in-process dedupe store: a map with a TTL per key, bounded in size.

use std::collections::hash_map::Entry as MapEntry;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::{Claim, DedupeStore, StoreError, StoredAnswer};

/// The default dedupe store: keys in a map, each living for its TTL, at most `capacity` of them.
///
/// Expired keys are swept as new ones come in (amortized O(1) per claim, no background task).
/// When the store is full the oldest key is dropped first: WeChat's retries come within seconds,
/// so old keys are the least useful. Serves one process; several instances behind one URL need a
/// shared store (`RedisDedupeStore`, feature `redis`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use wechat_msg::dedupe::{Claim, DedupeStore, MemoryDedupeStore, StoredAnswer};
///
/// let store = MemoryDedupeStore::new(10_000);
/// let ttl = Duration::from_secs(60);
/// assert_eq!(store.claim("msg:1", ttl).await.unwrap(), Claim::New);
/// assert_eq!(store.claim("msg:1", ttl).await.unwrap(), Claim::InFlight);
/// store.complete("msg:1", StoredAnswer::Success, ttl).await.unwrap();
/// assert_eq!(store.claim("msg:1", ttl).await.unwrap(), Claim::Done(StoredAnswer::Success));
/// # }
/// ```
#[derive(Debug)]
pub struct MemoryDedupeStore {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// foldhash, randomly seeded per process: SipHash cost more than the rest of a claim. Keys
    /// come from pushes that passed the signature check (in plaintext mode the body itself is
    /// unsigned: see SECURITY.md), and the per-process seed keeps collisions from being
    /// computed in advance.
    entries: HashMap<Arc<str>, Entry, foldhash::fast::RandomState>,
    /// Keys in claim order, with the generation they were claimed under. A record whose
    /// generation no longer matches its entry is stale (the key expired and was claimed again).
    order: VecDeque<(u64, Arc<str>)>,
    next_generation: u64,
}

#[derive(Debug)]
struct Entry {
    generation: u64,
    expires_at: Instant,
    answer: Option<StoredAnswer>,
}

/// Default number of keys kept: a busy account's retries over a minute, with room to spare.
const DEFAULT_CAPACITY: usize = 100_000;

impl MemoryDedupeStore {
    /// A store keeping at most `capacity` keys (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// How many keys are held now (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The map stays consistent whatever panicked while holding it: every update is a single
        // insert or remove.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn claim_now(&self, key: &str, ttl: Duration, now: Instant) -> Claim {
        let mut guard = self.lock();
        let inner = &mut *guard;
        inner.sweep(now);
        if inner.entries.len() >= self.capacity && !inner.entries.contains_key(key) {
            while inner.entries.len() >= self.capacity && inner.evict_oldest() {}
        }
        let generation = inner.next_generation;
        // One lookup finds the key or makes its slot.
        match inner.entries.entry(Arc::from(key)) {
            MapEntry::Occupied(mut occupied) => {
                let entry = occupied.get_mut();
                if entry.expires_at > now {
                    return match &entry.answer {
                        Some(answer) => Claim::Done(answer.clone()),
                        None => Claim::InFlight,
                    };
                }
                // Expired but not swept yet (a key behind a longer-lived one): claim it in place.
                // Its old record in `order` is now stale and will be skipped.
                *entry = Entry {
                    generation,
                    expires_at: expiry(now, ttl),
                    answer: None,
                };
                let key = Arc::clone(occupied.key());
                inner.order.push_back((generation, key));
            }
            MapEntry::Vacant(vacant) => {
                inner
                    .order
                    .push_back((generation, Arc::clone(vacant.key())));
                vacant.insert(Entry {
                    generation,
                    expires_at: expiry(now, ttl),
                    answer: None,
                });
            }
        }
        inner.next_generation += 1;
        Claim::New
    }
}

/// `now + ttl`, or a century on for a TTL too large to add.
fn expiry(now: Instant, ttl: Duration) -> Instant {
    now.checked_add(ttl)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

impl Default for MemoryDedupeStore {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl Inner {
    /// Drops expired keys from the front of the claim order.
    fn sweep(&mut self, now: Instant) {
        while let Some((generation, key)) = self.order.front() {
            match self.entries.get(key) {
                Some(entry) if entry.generation == *generation && entry.expires_at > now => break,
                Some(entry) if entry.generation == *generation => {
                    self.entries.remove(key);
                }
                // A stale record: the entry it pointed at is gone or was claimed again.
                _ => {}
            }
            self.order.pop_front();
        }
    }

    /// Drops the oldest key. False when nothing is left to drop.
    fn evict_oldest(&mut self) -> bool {
        let Some((generation, key)) = self.order.pop_front() else {
            return false;
        };
        if self
            .entries
            .get(&key)
            .is_some_and(|entry| entry.generation == generation)
        {
            self.entries.remove(&key);
        }
        true
    }
}

#[async_trait]
impl DedupeStore for MemoryDedupeStore {
    async fn claim(&self, key: &str, ttl: Duration) -> Result<Claim, StoreError> {
        Ok(self.claim_now(key, ttl, Instant::now()))
    }

    async fn complete(
        &self,
        key: &str,
        answer: StoredAnswer,
        _ttl: Duration,
    ) -> Result<(), StoreError> {
        // The key keeps the lifetime of its claim: retries stop within seconds of the first try.
        if let Some(entry) = self.lock().entries.get_mut(key) {
            entry.answer = Some(answer);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(60);

    #[test]
    fn a_key_expires_after_its_ttl_and_can_be_claimed_again() {
        let store = MemoryDedupeStore::new(10);
        let t0 = Instant::now();
        assert_eq!(store.claim_now("k", TTL, t0), Claim::New);
        assert_eq!(
            store.claim_now("k", TTL, t0 + Duration::from_secs(59)),
            Claim::InFlight
        );
        assert_eq!(
            store.claim_now("k", TTL, t0 + Duration::from_secs(61)),
            Claim::New
        );
        // The stale record of the first claim must not remove the second one.
        assert_eq!(
            store.claim_now("other", TTL, t0 + Duration::from_secs(62)),
            Claim::New
        );
        assert_eq!(
            store.claim_now("k", TTL, t0 + Duration::from_secs(63)),
            Claim::InFlight
        );
    }

    #[test]
    fn expired_keys_are_swept() {
        let store = MemoryDedupeStore::new(1000);
        let t0 = Instant::now();
        for i in 0..100 {
            store.claim_now(&format!("k{i}"), TTL, t0);
        }
        assert_eq!(store.len(), 100);
        store.claim_now("late", TTL, t0 + TTL + Duration::from_secs(1));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn stays_within_capacity_dropping_the_oldest() {
        let store = MemoryDedupeStore::new(3);
        let t0 = Instant::now();
        for key in ["a", "b", "c", "d"] {
            assert_eq!(store.claim_now(key, TTL, t0), Claim::New);
        }
        assert_eq!(store.len(), 3);
        assert_eq!(store.claim_now("a", TTL, t0), Claim::New);
        assert_eq!(store.claim_now("d", TTL, t0), Claim::InFlight);
    }

    #[test]
    fn a_huge_ttl_does_not_overflow() {
        let store = MemoryDedupeStore::new(10);
        let t0 = Instant::now();
        assert_eq!(store.claim_now("k", Duration::MAX, t0), Claim::New);
        assert_eq!(
            store.claim_now("k", Duration::MAX, t0 + Duration::from_secs(86_400)),
            Claim::InFlight
        );
    }

    #[tokio::test]
    async fn completed_keys_return_their_answer() {
        let store = MemoryDedupeStore::default();
        assert_eq!(store.claim("k", TTL).await.unwrap(), Claim::New);
        let answer = StoredAnswer::Reply("<xml/>".into());
        store.complete("k", answer.clone(), TTL).await.unwrap();
        assert_eq!(store.claim("k", TTL).await.unwrap(), Claim::Done(answer));
        // Completing an unknown key is harmless.
        store
            .complete("nope", StoredAnswer::Success, TTL)
            .await
            .unwrap();
        assert_eq!(store.claim("nope", TTL).await.unwrap(), Claim::New);
    }
}
