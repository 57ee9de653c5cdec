//! Bounded in-memory ETag cache for conditional GETs. A 304 costs no rate-limit token, so
//! revalidating a cached body is much cheaper than fetching it again.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use bytes::Bytes;

/// (credential identity, path with query). Keyed by identity because what a token may see
/// differs between tokens.
pub(crate) type Key = (String, String);

/// A cached 200 response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cached {
    pub(crate) etag: String,
    pub(crate) body: Bytes,
    /// The `Link` header, so pagination still works when revalidation answers 304 without one.
    pub(crate) link: Option<String>,
    /// The `Content-Type`, so raw file bodies stay raw.
    pub(crate) content_type: Option<String>,
}

#[derive(Debug)]
struct Inner {
    entries: HashMap<Key, (Cached, u64)>,
    /// Least recently used first.
    order: BTreeMap<u64, Key>,
    tick: u64,
    bytes: usize,
}

/// LRU over entry count and total body bytes.
#[derive(Debug)]
pub(crate) struct EtagCache {
    max_entries: usize,
    max_bytes: usize,
    inner: Mutex<Inner>,
}

impl EtagCache {
    pub(crate) fn new(max_entries: usize, max_bytes: usize) -> Self {
        EtagCache {
            max_entries,
            max_bytes,
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                order: BTreeMap::new(),
                tick: 0,
                bytes: 0,
            }),
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.max_entries > 0 && self.max_bytes > 0
    }

    pub(crate) fn get(&self, key: &Key) -> Option<Cached> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *g;
        inner.tick += 1;
        let tick = inner.tick;
        let (cached, used) = inner.entries.get_mut(key)?;
        inner.order.remove(used);
        *used = tick;
        inner.order.insert(tick, key.clone());
        Some(cached.clone())
    }

    pub(crate) fn put(&self, key: Key, value: Cached) {
        // An entry bigger than a quarter of the budget would evict too much to be worth it.
        if !self.enabled() || value.body.len() > self.max_bytes / 4 {
            return;
        }
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *g;
        inner.tick += 1;
        let tick = inner.tick;
        inner.bytes += value.body.len();
        if let Some((old, used)) = inner.entries.insert(key.clone(), (value, tick)) {
            inner.order.remove(&used);
            inner.bytes -= old.body.len();
        }
        inner.order.insert(tick, key);
        while inner.entries.len() > self.max_entries || inner.bytes > self.max_bytes {
            let Some((_, victim)) = inner.order.pop_first() else {
                break;
            };
            if let Some((old, _)) = inner.entries.remove(&victim) {
                inner.bytes -= old.body.len();
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().map(|g| g.entries.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        ("tok".into(), s.into())
    }
    fn val(etag: &str, body: &str) -> Cached {
        Cached {
            etag: etag.into(),
            body: Bytes::from(body.to_string()),
            link: None,
            content_type: None,
        }
    }

    #[test]
    fn lru_by_entries() {
        let c = EtagCache::new(2, 1 << 20);
        c.put(key("/a"), val("1", "a"));
        c.put(key("/b"), val("2", "b"));
        assert!(
            c.get(&key("/a")).is_some(),
            "touch /a so /b is least recent"
        );
        c.put(key("/c"), val("3", "c"));
        assert_eq!(c.len(), 2);
        assert!(c.get(&key("/b")).is_none());
        assert_eq!(c.get(&key("/a")).map(|v| v.etag), Some("1".into()));
        assert_eq!(c.get(&key("/c")).map(|v| v.etag), Some("3".into()));
    }

    #[test]
    fn lru_by_bytes_and_replacement() {
        let c = EtagCache::new(100, 40);
        c.put(key("/a"), val("1", "0123456789"));
        c.put(key("/a"), val("2", "01234"));
        assert_eq!(c.get(&key("/a")).map(|v| v.etag), Some("2".into()));
        c.put(key("/b"), val("3", "0123456789"));
        c.put(key("/c"), val("4", "0123456789"));
        c.put(key("/d"), val("5", "0123456789"));
        // 5 + 30 = 35 bytes fits; one more 10-byte entry evicts the oldest (/a).
        c.put(key("/e"), val("6", "0123456789"));
        assert!(c.get(&key("/a")).is_none());
        assert!(c.get(&key("/e")).is_some());
        // Oversized entries are not cached.
        c.put(key("/big"), val("7", "012345678901"));
        assert!(c.get(&key("/big")).is_none());
    }

    #[test]
    fn identity_is_part_of_the_key() {
        let c = EtagCache::new(10, 1000);
        c.put(("t1".into(), "/a".into()), val("1", "a"));
        assert!(c.get(&("t2".into(), "/a".into())).is_none());
    }

    #[test]
    fn disabled_cache_stores_nothing() {
        let c = EtagCache::new(0, 1000);
        assert!(!c.enabled());
        c.put(key("/a"), val("1", "a"));
        assert!(c.get(&key("/a")).is_none());
    }
}
