//! The in-process dedupe store: keys in a ring of slots, each living for its TTL, bounded in
//! size, split into shards so the server's threads rarely wait for each other.

use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use hashbrown::HashTable;
use tokio::time::Instant;

use super::{Claim, DedupeStore, StoreError, StoredAnswer};
use crate::lock::lock;

/// The default dedupe store: keys in memory, each living for its TTL, at most `capacity` of them.
///
/// Expired keys are swept as new ones come in (amortized O(1) per claim, no background task).
/// When the store is full the oldest key is dropped first: WeChat's retries come within seconds,
/// so old keys are the least useful. (A sharded store drops a few dozen of a shard's oldest at
/// a time, at most a 256th of the shard, which is faster than one by one.) Serves one process;
/// several instances behind one URL need a shared store (`RedisDedupeStore`, feature `redis`).
///
/// A store of 8 192 keys or more is split into up to 16 shards, each with its own lock and an
/// equal part of the capacity (the capacity rounded down to a multiple of the shard count), so
/// that a server's threads seldom wait on one another; the oldest key is then the oldest of its
/// shard, and a key claimed again after it expired keeps its place in that order. Keys and
/// answers live in slots that are written over in turn, so a push costs the store no
/// allocation once it is warm.
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
pub struct MemoryDedupeStore {
    capacity: usize,
    /// foldhash, randomly seeded per store: SipHash cost more than the rest of a claim. Keys
    /// come from pushes that passed the signature check (in plaintext mode the body itself is
    /// unsigned: see SECURITY.md), and the random seed keeps collisions from being computed in
    /// advance.
    hasher: foldhash::fast::RandomState,
    /// A power of two in number, picked by the key's hash.
    shards: Box<[Mutex<Shard>]>,
}

/// Default number of keys kept: a busy account's retries over a minute, with room to spare.
const DEFAULT_CAPACITY: usize = 100_000;
/// Most shards a store is split into: past the number of cores that contend for it, more shards
/// only scatter memory.
const MAX_SHARDS: usize = 16;
/// Fewest keys a shard holds, so that a small store keeps its exact oldest-first order.
const MIN_SHARD_CAPACITY: usize = 4096;

/// One lock's worth of the store: a ring of slots in claim order, and an index from key to slot.
struct Shard {
    /// Slots this shard may hold.
    capacity: usize,
    /// Records dropped at once when it is full ([`eviction_batch`]).
    eviction_batch: usize,
    /// The slot of each live key, found by the key's hash.
    index: HashTable<u32>,
    /// The ring; it grows to `capacity`, then its slots are reused in turn.
    slots: Vec<Slot>,
    /// Position of the oldest record.
    head: usize,
    /// Records in the ring, live or dead, from `head` on.
    len: usize,
}

/// A claimed key and what it was answered with. Its buffers are kept when the slot is written
/// over, so a warm store allocates nothing.
struct Slot {
    hash: u64,
    key: SlotKey,
    expires_at: Instant,
    state: SlotState,
    /// The reply document when `state` is `Reply`.
    reply: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SlotState {
    /// Outside the ring's records: dropped, or not yet written.
    Free,
    InFlight,
    Success,
    Reply,
}

impl MemoryDedupeStore {
    /// A store keeping at most `capacity` keys (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        let shards = (capacity / MIN_SHARD_CAPACITY).clamp(1, MAX_SHARDS);
        // A power of two, so a shard is picked with a mask.
        let shards = if shards.is_power_of_two() {
            shards
        } else {
            shards.next_power_of_two() / 2
        };
        // Slots are numbered in 32 bits: far more than memory holds.
        let per_shard = (capacity / shards).min(u32::MAX as usize);
        Self {
            capacity,
            hasher: foldhash::fast::RandomState::default(),
            shards: (0..shards)
                .map(|_| Mutex::new(Shard::new(per_shard, shards)))
                .collect(),
        }
    }

    /// How many keys are held now (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| lock(shard).index.len())
            .sum()
    }

    /// True when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key's hash and its shard, locked.
    fn shard(&self, key: &str) -> (u64, MutexGuard<'_, Shard>) {
        let hash = self.hasher.hash_one(key);
        // The table reads the hash's low bits and its top seven: the shard takes bits from the
        // middle, so the two choices stay independent.
        let at = (hash >> 32) as usize & (self.shards.len() - 1);
        (hash, lock(&self.shards[at]))
    }

    pub(super) fn claim_now(&self, key: &str, ttl: Duration, now: Instant) -> Claim {
        let (hash, mut shard) = self.shard(key);
        shard.claim(hash, key, expiry(now, ttl), now)
    }

    pub(super) fn complete_now(&self, key: &str, answer: StoredAnswer) {
        let (hash, mut shard) = self.shard(key);
        shard.complete(hash, key, answer);
    }
}

/// `now + ttl`, or a century on for a TTL too large to add.
fn expiry(now: Instant, ttl: Duration) -> Instant {
    now.checked_add(ttl)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

impl Shard {
    fn new(capacity: usize, shards: usize) -> Self {
        Self {
            capacity,
            eviction_batch: eviction_batch(capacity, shards),
            index: HashTable::new(),
            slots: Vec::new(),
            head: 0,
            len: 0,
        }
    }

    fn find(&self, hash: u64, key: &str) -> Option<usize> {
        self.index
            .find(hash, |&at| {
                self.slots[at as usize].key.as_bytes() == key.as_bytes()
            })
            .map(|&at| at as usize)
    }

    fn claim(&mut self, hash: u64, key: &str, expires_at: Instant, now: Instant) -> Claim {
        self.sweep(now);
        if let Some(at) = self.find(hash, key) {
            let slot = &self.slots[at];
            if slot.expires_at > now {
                return match slot.state {
                    // Only records in the ring are indexed, so `Free` is not found here.
                    SlotState::InFlight | SlotState::Free => Claim::InFlight,
                    SlotState::Success => Claim::Done(StoredAnswer::Success),
                    SlotState::Reply => Claim::Done(StoredAnswer::Reply(slot.reply.clone())),
                };
            }
            // Expired but not swept yet (a key behind a longer-lived one): claimed anew where
            // its record stands. A fresh record at the back would leave a dead one behind, and a
            // full ring would then drop a live key to make room for it.
            let slot = &mut self.slots[at];
            slot.expires_at = expires_at;
            slot.state = SlotState::InFlight;
            return Claim::New;
        }
        if self.len == self.capacity {
            // Several at once in a large shard: each drop looks up a key written long ago,
            // whose place in the index has left the cache, and lookups one after another in
            // a loop wait for memory together rather than in turn.
            for _ in 0..self.eviction_batch {
                self.pop_oldest();
            }
        }
        let at = (self.head + self.len) % self.capacity;
        if at == self.slots.len() {
            // Still growing: until the ring is full, the next record is always the last one.
            self.slots.push(Slot {
                hash,
                key: SlotKey::default(),
                expires_at,
                state: SlotState::Free,
                reply: String::new(),
            });
        }
        let slot = &mut self.slots[at];
        slot.hash = hash;
        slot.key.set(key);
        slot.expires_at = expires_at;
        slot.state = SlotState::InFlight;
        let slots = &self.slots;
        self.index
            .insert_unique(hash, at as u32, |&other| slots[other as usize].hash);
        self.len += 1;
        Claim::New
    }

    fn complete(&mut self, hash: u64, key: &str, answer: StoredAnswer) {
        // The key keeps the lifetime of its claim: retries stop within seconds of the first try.
        let Some(at) = self.find(hash, key) else {
            return;
        };
        let slot = &mut self.slots[at];
        match answer {
            StoredAnswer::Success => slot.state = SlotState::Success,
            StoredAnswer::Reply(xml) => {
                slot.state = SlotState::Reply;
                // Copied into the slot's own buffer: the caller's copy is freed while still warm,
                // and the slot's buffer is not freed at all.
                if reusable(&slot.reply, xml.len()) {
                    reuse(&mut slot.reply, &xml);
                } else {
                    slot.reply = xml;
                }
            }
        }
    }

    /// Drops expired records from the front of the ring. Their reply buffers are freed: a burst
    /// of pushes does not keep its replies' memory once their keys have expired. (Records
    /// dropped to make room keep theirs, for the record written next.)
    fn sweep(&mut self, now: Instant) {
        while self.len > 0 {
            let slot = &mut self.slots[self.head];
            if slot.expires_at > now {
                break;
            }
            slot.reply = String::new();
            self.pop_oldest();
        }
    }

    /// Drops the oldest record, taking its key out of the index.
    fn pop_oldest(&mut self) {
        let at = self.head;
        let slot = &mut self.slots[at];
        if let Ok(entry) = self
            .index
            .find_entry(slot.hash, |&other| other as usize == at)
        {
            entry.remove();
        }
        slot.state = SlotState::Free;
        self.head = (self.head + 1) % self.capacity;
        self.len -= 1;
    }
}

/// How many of the oldest records a full shard drops to make room: one in an unsharded store,
/// which keeps its exact capacity and order, and up to 32 (a 256th of the shard) in a sharded
/// one, whose order is per shard already.
fn eviction_batch(shard_capacity: usize, shards: usize) -> usize {
    match shards {
        1 => 1,
        _ => (shard_capacity / 256).clamp(1, 32),
    }
}

/// Longest key kept in the slot itself: every `msg:` key (`msg:` and up to 20 digits) fits.
const INLINE_KEY: usize = 30;

/// A slot's key: in the slot itself when it is short, so that writing a message's key touches
/// no memory but the slot's. A buffer of its own, written once each turn of the ring, would be a
/// cache miss every time. Long keys (an event's holds the user's openid and the event key) live
/// on the heap.
enum SlotKey {
    Inline { len: u8, bytes: [u8; INLINE_KEY] },
    Heap(String),
}

impl Default for SlotKey {
    fn default() -> Self {
        Self::Inline {
            len: 0,
            bytes: [0; INLINE_KEY],
        }
    }
}

impl SlotKey {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Self::Heap(key) => key.as_bytes(),
        }
    }

    fn set(&mut self, key: &str) {
        let short = key.len() <= INLINE_KEY;
        match self {
            Self::Inline { len, bytes } if short => {
                bytes[..key.len()].copy_from_slice(key.as_bytes());
                // At most `INLINE_KEY`, so it fits.
                *len = key.len() as u8;
            }
            Self::Heap(buffer) if !short => reuse(buffer, key),
            // The slot goes from a long key to a short one, or back.
            this if short => {
                *this = Self::default();
                this.set(key);
            }
            this => {
                let mut buffer = String::new();
                reuse(&mut buffer, key);
                *this = Self::Heap(buffer);
            }
        }
    }
}

/// Writes `text` into `buffer`, keeping its allocation when that fits.
fn reuse(buffer: &mut String, text: &str) {
    if reusable(buffer, text.len()) {
        buffer.clear();
        buffer.push_str(text);
    } else {
        // Room for the usual key lengths, so the next one fits without growing.
        let mut fresh = String::with_capacity(text.len().max(64));
        fresh.push_str(text);
        *buffer = fresh;
    }
}

/// A buffer is written over when it holds `len` bytes without wasting much: a slot that once
/// held a long reply does not keep that much memory for every short one after it.
fn reusable(buffer: &String, len: usize) -> bool {
    buffer.capacity() >= len && buffer.capacity() <= (2 * len).max(512)
}

impl Default for MemoryDedupeStore {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl std::fmt::Debug for MemoryDedupeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryDedupeStore")
            .field("capacity", &self.capacity)
            .field("shards", &self.shards.len())
            .field("len", &self.len())
            .finish()
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
        self.complete_now(key, answer);
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

        // The largest store of one shard drops exactly one key, the oldest, too.
        let store = MemoryDedupeStore::new(8191);
        assert_eq!(store.shards.len(), 1);
        for i in 0..=8191 {
            assert_eq!(store.claim_now(&format!("msg:{i}"), TTL, t0), Claim::New);
        }
        assert_eq!(store.len(), 8191);
        assert_eq!(store.claim_now("msg:1", TTL, t0), Claim::InFlight);
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

    #[test]
    fn a_key_behind_a_longer_lived_one_is_claimed_again_in_place() {
        // Two keys fill the store; the second expires first, behind the first.
        let store = MemoryDedupeStore::new(2);
        let t0 = Instant::now();
        let hour = Duration::from_secs(3600);
        assert_eq!(store.claim_now("long", hour, t0), Claim::New);
        assert_eq!(
            store.claim_now("short", Duration::from_secs(10), t0),
            Claim::New
        );
        let t1 = t0 + Duration::from_secs(11);
        assert_eq!(store.claim_now("short", hour, t1), Claim::New);
        assert_eq!(store.claim_now("short", hour, t1), Claim::InFlight);
        // Claiming it again took no room: the live key beside it was not dropped.
        assert_eq!(store.claim_now("long", hour, t1), Claim::InFlight);
        assert_eq!(store.len(), 2);
        // Its new lifetime counts: still held after the first one's hour.
        let t2 = t0 + hour + Duration::from_secs(1);
        assert_eq!(store.claim_now("other", hour, t2), Claim::New);
        assert_eq!(store.claim_now("short", hour, t2), Claim::InFlight);
        assert_eq!(store.claim_now("long", hour, t2), Claim::New);
    }

    #[test]
    fn expired_keys_give_back_their_reply_memory() {
        let store = MemoryDedupeStore::new(100);
        let t0 = Instant::now();
        for i in 0..50 {
            let key = format!("k{i}");
            store.claim_now(&key, TTL, t0);
            store.complete_now(&key, StoredAnswer::Reply("x".repeat(4096)));
        }
        let held = |store: &MemoryDedupeStore| -> usize {
            store
                .shards
                .iter()
                .map(|shard| {
                    lock(shard)
                        .slots
                        .iter()
                        .map(|slot| slot.reply.capacity())
                        .sum::<usize>()
                })
                .sum()
        };
        assert!(held(&store) >= 50 * 4096);
        // A minute later one new key sweeps the rest, and their replies' memory with them.
        store.claim_now("later", TTL, t0 + TTL + Duration::from_secs(1));
        assert_eq!(store.len(), 1);
        assert_eq!(held(&store), 0);
    }

    #[test]
    fn reused_slots_give_back_the_answer_they_were_given() {
        let store = MemoryDedupeStore::new(2);
        let t0 = Instant::now();
        let long = StoredAnswer::Reply("<xml>".repeat(500));
        let short = StoredAnswer::Reply("<xml>ok</xml>".to_owned());
        // Six keys through two slots: each slot holds a long answer, then a short one, then a
        // long one again.
        for (i, answer) in [&long, &long, &short, &short, &long, &long]
            .into_iter()
            .enumerate()
        {
            let key = format!("k{i}");
            assert_eq!(store.claim_now(&key, TTL, t0), Claim::New);
            store.complete_now(&key, answer.clone());
            assert_eq!(store.claim_now(&key, TTL, t0), Claim::Done(answer.clone()));
        }
        assert_eq!(store.len(), 2);
        assert_eq!(store.claim_now("k0", TTL, t0), Claim::New);
    }

    #[test]
    fn keys_short_and_long_are_told_apart_as_slots_switch_between_them() {
        let store = MemoryDedupeStore::new(2);
        let t0 = Instant::now();
        // Around the inline limit, and event-style keys far past it; several share a prefix, so
        // a key compared only in part would be taken for another.
        let at_limit = "m".repeat(INLINE_KEY);
        let past_limit = "m".repeat(INLINE_KEY + 1);
        let event = format!("evt:{}:1763700000:CLICK:{}", "o".repeat(28), "k".repeat(64));
        let longer = format!("{past_limit}m");
        let keys = [
            // Two slots, taken in turn: the first holds keys 0, 2, 4 and 6, inline, then on
            // the heap, then inline; the second keys 1, 3, 5 and 7, heap, inline, heap, inline.
            at_limit.as_str(),
            past_limit.as_str(),
            event.as_str(),
            "msg:1",
            "msg:12",
            longer.as_str(),
            "键:统一码",
            &at_limit[..INLINE_KEY - 1],
        ];
        for (i, key) in keys.into_iter().enumerate() {
            assert_eq!(store.claim_now(key, TTL, t0), Claim::New, "key {i}");
            let answer = StoredAnswer::Reply(format!("<xml>{i}</xml>"));
            store.complete_now(key, answer.clone());
            assert_eq!(
                store.claim_now(key, TTL, t0),
                Claim::Done(answer),
                "key {i}"
            );
        }
        // The last two are held, each with its own answer; the ones before were dropped.
        assert_eq!(
            store.claim_now("键:统一码", TTL, t0),
            Claim::Done(StoredAnswer::Reply("<xml>6</xml>".into()))
        );
        assert_eq!(
            store.claim_now(&at_limit[..INLINE_KEY - 1], TTL, t0),
            Claim::Done(StoredAnswer::Reply("<xml>7</xml>".into()))
        );
        assert_eq!(store.claim_now(&longer, TTL, t0), Claim::New);
        assert_eq!(store.claim_now(&at_limit, TTL, t0), Claim::New);
    }

    #[test]
    fn a_slot_does_not_keep_a_long_answer_s_memory_for_short_ones() {
        let mut buffer = String::new();
        reuse(&mut buffer, &"x".repeat(10_000));
        reuse(&mut buffer, "short");
        assert!(buffer.capacity() < 1024, "{}", buffer.capacity());
        let before = buffer.capacity();
        reuse(&mut buffer, "short too");
        assert_eq!(
            buffer.capacity(),
            before,
            "a fitting buffer is written over"
        );
        assert_eq!(buffer, "short too");
    }

    #[test]
    fn a_large_store_is_sharded_and_keeps_the_newest_keys() {
        let store = MemoryDedupeStore::new(40_000);
        assert_eq!(store.shards.len(), 8);
        let t0 = Instant::now();
        for i in 0..100_000 {
            assert_eq!(store.claim_now(&format!("msg:{i}"), TTL, t0), Claim::New);
        }
        // Every shard is full but for at most one batch of dropped keys: together they hold
        // the capacity, less those batches.
        let batch = eviction_batch(40_000 / 8, 8);
        assert!(batch > 1);
        let held = store.len();
        assert!(
            held <= 40_000 && held > 40_000 - 8 * batch,
            "{held} keys held"
        );
        // The newest keys are all still there; the first ones are long gone.
        for i in 99_000..100_000 {
            assert_eq!(
                store.claim_now(&format!("msg:{i}"), TTL, t0),
                Claim::InFlight
            );
        }
        assert_eq!(store.claim_now("msg:0", TTL, t0), Claim::New);
    }

    #[test]
    fn small_stores_are_one_shard_and_odd_sizes_round_down_to_a_power_of_two() {
        assert_eq!(MemoryDedupeStore::new(0).shards.len(), 1);
        assert_eq!(MemoryDedupeStore::new(8191).shards.len(), 1);
        assert_eq!(MemoryDedupeStore::new(12_288).shards.len(), 2);
        assert_eq!(MemoryDedupeStore::default().shards.len(), 16);
        assert_eq!(MemoryDedupeStore::new(10_000_000).shards.len(), 16);
    }
}
