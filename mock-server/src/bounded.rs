//! Collections with a hard size limit, so a long-running fake never grows without bound.

use std::collections::{HashMap, VecDeque};

/// A map from generated secrets (codes, tokens) to their records that holds at most `cap` entries:
/// past the cap the oldest insertions are dropped. Expired entries are removed by `retain` sweeps;
/// the cap only matters under a flood of requests faster than the sweeps.
#[derive(Debug)]
pub(crate) struct BoundedMap<V> {
    map: HashMap<String, V>,
    /// Insertion order, for eviction. May hold keys already removed from `map`; compacted when it
    /// grows well past the map.
    order: VecDeque<String>,
    cap: usize,
    /// Inserts since the last `make_room` purge, so purges stay amortized O(1) per insert.
    inserts_since_purge: usize,
}

impl<V> BoundedMap<V> {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
            inserts_since_purge: 0,
        }
    }

    /// When the map is full, drops the entries `keep` refuses (dead ones kept only for better
    /// error codes) before an insert would evict the oldest, live or not. Runs its O(n) pass at
    /// most once per `cap / 4` inserts, so a flood costs amortized O(1) per insert.
    pub(crate) fn make_room(&mut self, keep: impl FnMut(&V) -> bool) {
        if self.map.len() >= self.cap && self.inserts_since_purge >= self.cap / 4 {
            self.inserts_since_purge = 0;
            self.retain(keep);
        }
    }

    pub(crate) fn insert(&mut self, key: String, value: V) {
        self.inserts_since_purge = self.inserts_since_purge.saturating_add(1);
        if self.map.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
        }
        while self.map.len() > self.cap {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.map.remove(&oldest);
                }
                None => break,
            }
        }
        if self.order.len() > 2 * self.map.len() + 64 {
            let map = &self.map;
            self.order.retain(|k| map.contains_key(k));
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.map.get(key)
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<V> {
        self.map.remove(key)
    }

    /// Keeps the entries `keep` accepts.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        self.map.retain(|_, v| keep(v));
        let map = &self.map;
        self.order.retain(|k| map.contains_key(k));
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// A first-in-first-out log that keeps the last `cap` entries.
#[derive(Debug)]
pub(crate) struct Ring<T> {
    items: VecDeque<T>,
    cap: usize,
}

impl<T> Ring<T> {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            items: VecDeque::new(),
            cap,
        }
    }

    pub(crate) fn push(&mut self, item: T) {
        if self.cap == 0 {
            return;
        }
        if self.items.len() == self.cap {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }

    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.items.iter()
    }

    pub(crate) fn clear(&mut self) {
        self.items.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_evicts_oldest_past_cap() {
        let mut map = BoundedMap::new(3);
        for i in 0..5 {
            map.insert(format!("k{i}"), i);
        }
        assert_eq!(map.len(), 3);
        assert!(map.get("k0").is_none() && map.get("k1").is_none());
        assert_eq!(map.get("k4"), Some(&4));
        // Re-inserting an existing key does not grow the order queue.
        map.insert("k4".into(), 40);
        assert_eq!(map.get("k4"), Some(&40));
        assert_eq!(map.len(), 3);
    }

    #[test]
    fn removed_keys_do_not_leak_in_the_order_queue() {
        let mut map = BoundedMap::new(10);
        for i in 0..10_000 {
            let key = format!("k{i}");
            map.insert(key.clone(), i);
            map.remove(&key);
        }
        assert_eq!(map.len(), 0);
        assert!(map.order.len() <= 64 + 1);
    }

    #[test]
    fn retain_sweeps() {
        let mut map = BoundedMap::new(100);
        for i in 0..10 {
            map.insert(format!("k{i}"), i);
        }
        map.retain(|v| v % 2 == 0);
        assert_eq!(map.len(), 5);
        assert_eq!(map.order.len(), 5);
    }

    #[test]
    fn make_room_purges_dead_entries_before_eviction_reaches_live_ones() {
        let mut map = BoundedMap::new(8);
        map.insert("live".into(), 1);
        for i in 0..7 {
            map.insert(format!("dead{i}"), 0);
        }
        map.make_room(|v| *v > 0);
        assert_eq!(map.len(), 1);
        map.insert("new".into(), 1);
        assert_eq!(map.get("live"), Some(&1));
        // Not full: nothing to do.
        map.make_room(|_| false);
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn ring_keeps_the_last_entries() {
        let mut ring = Ring::new(2);
        ring.push(1);
        ring.push(2);
        ring.push(3);
        assert_eq!(ring.iter().copied().collect::<Vec<_>>(), vec![2, 3]);
        let mut none = Ring::new(0);
        none.push(1);
        assert_eq!(none.iter().len(), 0);
    }
}
