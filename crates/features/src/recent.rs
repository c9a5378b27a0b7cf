//! What the feature store last read from the online store, by entity, kept to answer again
//! while the store's [`crate::online::Stamp`] says nothing was written since: one bounded map,
//! shared by the anomaly states ([`crate::FeatureStore::online_user_state_now`]) and the online
//! values ([`crate::FeatureStore::get_online_features_now`]).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// A map from entity id to what was last read for it, of at most `max` entities: past the
/// bound it starts again empty (no order to keep, no per-entry bookkeeping on the read path),
/// and the old map is handed back, so that the caller frees it after letting its lock go.
pub(crate) struct Recent<V> {
    map: HashMap<String, V>,
    max: usize,
}

/// A map handed back by [`Recent::entry`] at the bound, to be dropped outside the lock.
pub(crate) type Freed<V> = Option<HashMap<String, V>>;

impl<V> Recent<V> {
    pub(crate) fn new(max: usize) -> Self {
        Recent { map: HashMap::new(), max: max.max(1) }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.map.get(key)
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// The entry of `key`: the one kept when `keep` accepts it, else a new one from `make`
    /// (in its place). A key not yet kept when the map is full starts the map again.
    #[must_use]
    pub(crate) fn entry(
        &mut self,
        key: &str,
        keep: impl FnOnce(&V) -> bool,
        make: impl FnOnce() -> V,
    ) -> (&mut V, Freed<V>) {
        let freed = (self.map.len() >= self.max && !self.map.contains_key(key)).then(|| std::mem::take(&mut self.map));
        let v = match self.map.entry(key.to_owned()) {
            Entry::Occupied(o) => {
                let v = o.into_mut();
                if !keep(v) {
                    *v = make();
                }
                v
            }
            Entry::Vacant(e) => e.insert(make()),
        };
        (v, freed)
    }
}

#[cfg(test)]
mod tests {
    use super::Recent;

    #[test]
    fn entries_are_kept_replaced_and_bounded() {
        let mut r: Recent<u32> = Recent::new(3);
        let (v, freed) = r.entry("a", |_| true, || 1);
        assert_eq!((*v, freed.is_none()), (1, true));
        // kept when `keep` accepts it, made again when it does not
        assert_eq!(*r.entry("a", |&v| v == 1, || 2).0, 1);
        assert_eq!(*r.entry("a", |&v| v == 5, || 2).0, 2);
        *r.get_mut("a").unwrap() += 10;
        assert_eq!(r.get("a"), Some(&12));
        assert!(r.entry("b", |_| true, || 3).1.is_none());
        assert!(r.entry("c", |_| true, || 4).1.is_none());
        // full: a key already kept does not start the map again…
        assert!(r.entry("b", |_| false, || 30).1.is_none());
        assert_eq!((r.len(), r.get("b")), (3, Some(&30)));
        // …a new one does, and the old map comes back whole, to be freed by the caller
        let (v, freed) = r.entry("d", |_| true, || 5);
        assert_eq!(*v, 5);
        let freed = freed.unwrap();
        assert_eq!((freed.len(), freed["a"], freed["c"]), (3, 12, 4));
        assert_eq!((r.len(), r.get("a")), (1, None));
    }
}
