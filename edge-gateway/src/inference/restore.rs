//! Serving from the disk cache at start, before (or without) the uplink.

use std::sync::Arc;

use edgeops_artifacts::TrustedKeys;
use edgeops_contracts::deployment::DesiredModel;

use super::active::{ActiveModel, Refusal};
use super::cache::{CacheError, ModelCache};
use super::table::{ModelTable, Slots};

#[derive(Debug, thiserror::Error)]
enum RestoreError {
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// Loads every device's cached current and previous model into `table`, verifying each again
/// against `trusted` (a key removed from the trusted set since also removes its models).
/// A model that fails is skipped with a warning: the device then forecasts persistence until
/// the hub's desired state can be fetched. Blocking; returns the models loaded.
pub fn restore(cache: &ModelCache, trusted: &TrustedKeys, table: &ModelTable) -> usize {
    let mut loaded = 0;
    for (device, cached) in cache.load_devices() {
        let load = |desired: Option<DesiredModel>| {
            let desired = desired?;
            let (model, version) = (desired.model.clone(), desired.version);
            match prepare(cache, trusted, desired) {
                Ok(active) => Some(Arc::new(active)),
                Err(err) => {
                    tracing::warn!(%device, model, version, error = %err, "cached model not restored");
                    None
                }
            }
        };
        let slots = Slots {
            current: load(cached.current),
            previous: load(cached.previous),
        };
        loaded += usize::from(slots.current.is_some()) + usize::from(slots.previous.is_some());
        if let Some(current) = &slots.current {
            tracing::info!(%device, model = %current.desired.model, version = current.desired.version, "serving the cached model");
        }
        table.restore(&device, slots);
    }
    loaded
}

fn prepare(
    cache: &ModelCache,
    trusted: &TrustedKeys,
    desired: DesiredModel,
) -> Result<ActiveModel, RestoreError> {
    let bytes = cache.read_artifact(&desired.signed.manifest.artifact.sha256)?;
    Ok(ActiveModel::prepare(desired, &bytes, trusted)?)
}
