//! The set of registered sites, as ingest last saw it.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use edgeops_contracts::SiteId;

/// Shared, cheaply cloned view of the registered sites. Kept current by a KV watch.
#[derive(Clone, Default)]
pub struct KnownSites(Arc<RwLock<HashSet<SiteId>>>);

impl KnownSites {
    pub fn contains(&self, site: &SiteId) -> bool {
        self.0.read().map(|set| set.contains(site)).unwrap_or(false)
    }

    pub fn insert(&self, site: SiteId) {
        if let Ok(mut set) = self.0.write() {
            set.insert(site);
        }
    }

    pub fn remove(&self, site: &SiteId) {
        if let Ok(mut set) = self.0.write() {
            set.remove(site);
        }
    }

    pub fn len(&self) -> usize {
        self.0.read().map(|set| set.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
