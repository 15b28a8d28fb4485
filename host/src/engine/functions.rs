//! Compiled functions shared between connectors while they load: Cranelift's
//! incremental cache, in memory. Connectors built with the same SDK and Rust
//! standard library hold many byte-identical functions (allocation,
//! formatting, JSON, the SDK's bindings); a function compiled for one
//! connector is reused for the next one that holds it, keyed by the SHA-256
//! Cranelift computes over the function's whole intermediate form and the
//! compiler's settings, so a function that differs in anything is compiled
//! on its own.
//!
//! The store lives for one scan of the plugin directory (the registry clears
//! it after each) and holds at most [`CAPACITY`] bytes: what it saves is
//! compile time at a cold start, never memory for the host's life.

use parking_lot::Mutex;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// The most compiled-function bytes held at once.
pub const CAPACITY: usize = 64 << 20;

/// Cranelift's incremental-compilation store, in memory, bounded.
#[derive(Debug, Default)]
pub struct FunctionCache {
    inner: Mutex<Held>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug, Default)]
struct Held {
    entries: HashMap<Vec<u8>, Vec<u8>>,
    bytes: usize,
}

impl FunctionCache {
    /// Drops every held function (the end of a scan).
    pub fn clear(&self) {
        let mut held = self.inner.lock();
        held.entries = HashMap::new();
        held.bytes = 0;
    }

    /// Functions served from the store and functions compiled, since the
    /// host started.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// Bytes held now.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.inner.lock().bytes
    }
}

impl wasmtime::CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let held = self.inner.lock();
        match held.entries.get(key) {
            Some(v) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(Cow::Owned(v.clone()))
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let mut held = self.inner.lock();
        let size = key.len() + value.len();
        if held.bytes + size > CAPACITY || held.entries.contains_key(key) {
            return false;
        }
        held.bytes += size;
        held.entries.insert(key.to_vec(), value);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::CacheStore;

    #[test]
    fn holds_what_fits_and_forgets_on_clear() {
        let cache = FunctionCache::default();
        assert!(cache.insert(b"a", vec![1; 10]));
        assert_eq!(cache.get(b"a").as_deref(), Some(&[1u8; 10][..]));
        assert!(cache.get(b"b").is_none());
        assert_eq!(cache.counts(), (1, 1));
        assert!(!cache.insert(b"big", vec![0; CAPACITY]), "over the cap");
        assert_eq!(cache.bytes(), 11);
        cache.clear();
        assert!(cache.get(b"a").is_none());
        assert_eq!(cache.bytes(), 0);
    }
}
