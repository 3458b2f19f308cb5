//! An in-memory [`KeyValue`] for native tests.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::store::{KeyValue, KvError};

#[derive(Default)]
pub struct MemoryKv {
    map: Mutex<HashMap<String, String>>,
    reads: std::sync::atomic::AtomicU64,
}

impl MemoryKv {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, String>>, KvError> {
        self.map.lock().map_err(|_| KvError("kv poisoned".into()))
    }

    /// How many reads (`get`) were made.
    pub fn reads(&self) -> u64 {
        self.reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Removes a key behind the service's back (another isolate's write).
    pub fn remove_directly(&self, key: &str) {
        if let Ok(mut m) = self.lock() {
            m.remove(key);
        }
    }

    /// All keys, for tests that check what is stored.
    pub fn keys(&self) -> Vec<String> {
        self.lock()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
}

impl KeyValue for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<String>, KvError> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(self.lock()?.get(key).cloned())
    }
    async fn put(&self, key: &str, value: &str, _ttl: Option<u64>) -> Result<(), KvError> {
        self.lock()?.insert(key.to_owned(), value.to_owned());
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<(), KvError> {
        self.lock()?.remove(key);
        Ok(())
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        let mut keys: Vec<String> = self
            .lock()?
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        keys.sort();
        Ok(keys)
    }
}
