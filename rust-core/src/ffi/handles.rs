//! A registry of objects handed across the ABI as ids. Ids are never reused and come from one
//! counter shared by every registry, so a stale id, or the id of a cancel token passed as a
//! client (or the reverse), can only miss, never reach another object.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The next id of any registry.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Objects of one type, by id.
pub(crate) struct Registry<T> {
    items: Mutex<Option<HashMap<u64, Arc<T>>>>,
}

impl<T> Registry<T> {
    /// An empty registry (usable in a `static`).
    pub(crate) const fn new() -> Self {
        Registry {
            items: Mutex::new(None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<HashMap<u64, Arc<T>>>> {
        // A panic while holding the lock cannot leave the map half-changed: recover it.
        self.items
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stores an object and returns its new id (never 0).
    pub(crate) fn insert(&self, item: T) -> u64 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        self.lock()
            .get_or_insert_with(HashMap::new)
            .insert(id, Arc::new(item));
        id
    }

    /// The object with this id, if it is still there.
    pub(crate) fn get(&self, id: u64) -> Option<Arc<T>> {
        self.lock()
            .as_ref()
            .and_then(|items| items.get(&id).cloned())
    }

    /// Removes the object with this id; `None` if it was not there.
    pub(crate) fn remove(&self, id: u64) -> Option<Arc<T>> {
        self.lock().as_mut().and_then(|items| items.remove(&id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_zero_or_reused() {
        let registry = Registry::new();
        let a = registry.insert("a");
        assert_ne!(a, 0);
        assert!(registry.remove(a).is_some());
        let b = registry.insert("b");
        assert_ne!(a, b);
        assert!(registry.get(a).is_none());
        assert_eq!(registry.get(b).as_deref(), Some(&"b"));
    }

    #[test]
    fn an_id_of_one_registry_is_never_an_id_of_another() {
        let clients = Registry::new();
        let cancels = Registry::new();
        let client = clients.insert("client");
        let cancel = cancels.insert("cancel");
        assert!(cancels.get(client).is_none());
        assert!(clients.get(cancel).is_none());
    }
}
