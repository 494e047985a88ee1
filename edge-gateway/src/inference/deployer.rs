//! Applies desired state: watches the site's keys in the hub's desired-state bucket (over the
//! leaf link), and for each change fetches, verifies, loads and warms up the model before one
//! assignment makes it current. A refused model leaves the serving one in place and is reported
//! with its reason; a desired version equal to the previous model swaps back without a fetch.
//!
//! The watch starts with the current value of every key (`watch_with_history`), so a gateway
//! that starts, or whose watch broke because the uplink went down, applies whatever changed in
//! the meantime as soon as it can reach the hub again. Changes are coalesced per device: after an
//! outage only the latest desired state of each device is applied. A failure to reach the hub
//! while fetching is retried with backoff; a refusal is not (the same desired state would be
//! refused again) until the desired state changes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::kv::{Entry, Operation};
use edgeops_artifacts::TrustedKeys;
use edgeops_contracts::deployment::{
    AppliedFrom, DesiredModel, RefusalReason, desired_keys_of_site, parse_desired_key,
};
use edgeops_contracts::{DeviceId, SiteId, streams};
use futures::{FutureExt, StreamExt};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::backoff::Backoff;

use super::InferenceStats;
use super::active::{ActiveModel, Refusal};
use super::cache::{CachedDevice, ModelCache};
use super::fetch::{FetchError, fetch};
use super::reports::Reporter;
use super::table::ModelTable;

/// A device's latest desired state, not yet applied.
#[derive(Debug, Clone)]
enum Change {
    Want(Box<DesiredModel>),
    /// The key was deleted or purged: serve no model.
    Clear,
}

pub struct Deployer {
    site: SiteId,
    hub_api: jetstream::Context,
    table: Arc<ModelTable>,
    trusted: Arc<TrustedKeys>,
    cache: Option<ModelCache>,
    reporter: Reporter,
    stats: Arc<InferenceStats>,
    /// The desired state last reported applied, per device: reported once per process and per
    /// rollout, not on every replay of the same value after a reconnect.
    reported: HashMap<DeviceId, Answered>,
    /// The desired state last refused, per device (refused once, not on every replay).
    refused: HashMap<DeviceId, Answered>,
}

#[derive(Debug, thiserror::Error)]
#[error("desired-state watch: {0}")]
struct WatchBroken(String);

/// Which desired state an answer was for: the manifest (by its signature) and the rollout, so
/// that a new rollout asking for the model a device already serves still gets its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answered {
    signature: String,
    rollout: Option<uuid::Uuid>,
}

impl Answered {
    fn of(desired: &DesiredModel) -> Self {
        Self {
            signature: desired.signed.signature.clone(),
            rollout: desired.rollout,
        }
    }
}

impl Deployer {
    pub fn new(
        site: SiteId,
        hub_api: jetstream::Context,
        table: Arc<ModelTable>,
        trusted: Arc<TrustedKeys>,
        cache: Option<ModelCache>,
        reporter: Reporter,
        stats: Arc<InferenceStats>,
    ) -> Self {
        Self {
            site,
            hub_api,
            table,
            trusted,
            cache,
            reporter,
            stats,
            reported: HashMap::new(),
            refused: HashMap::new(),
        }
    }

    /// Applies desired state until `shutdown`; a broken watch is reopened with backoff.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut pending = BTreeMap::new();
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
        while !shutdown.is_cancelled() {
            // Dropping an apply midway at shutdown is safe: the table only ever changes by a
            // whole assignment, and the cache by a rename.
            let watched = tokio::select! {
                watched = self.watch(&mut pending, &shutdown) => watched,
                () = shutdown.cancelled() => return,
            };
            match watched {
                Ok(()) => return,
                Err(err) => {
                    tracing::warn!(site = %self.site, error = %err, backoff = ?backoff.next(), "desired state unreachable; retrying (models keep serving)");
                    if backoff.wait(&shutdown).await {
                        return;
                    }
                }
            }
        }
    }

    async fn watch(
        &mut self,
        pending: &mut BTreeMap<DeviceId, Change>,
        shutdown: &CancellationToken,
    ) -> Result<(), WatchBroken> {
        let broken = |e: &dyn std::fmt::Display| WatchBroken(e.to_string());
        let kv = self
            .hub_api
            .get_key_value(streams::DESIRED_BUCKET)
            .await
            .map_err(|e| broken(&e))?;
        let mut entries = kv
            .watch_with_history(desired_keys_of_site(&self.site))
            .await
            .map_err(|e| broken(&e))?;
        tracing::info!(site = %self.site, "watching desired state");
        let mut retry: Option<Duration> = None;
        loop {
            let wait = retry.unwrap_or(Duration::from_secs(3600));
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                next = entries.next() => match next {
                    Some(Ok(entry)) => self.note(entry, pending),
                    Some(Err(err)) => return Err(broken(&err)),
                    None => return Err(WatchBroken("ended".into())),
                },
                () = tokio::time::sleep(wait), if retry.is_some() => {}
            }
            // Whatever else already arrived is coalesced before anything is applied.
            while let Some(next) = entries.next().now_or_never() {
                match next {
                    Some(Ok(entry)) => self.note(entry, pending),
                    Some(Err(err)) => return Err(broken(&err)),
                    None => return Err(WatchBroken("ended".into())),
                }
            }
            let failed = self.apply_pending(pending).await;
            retry = match (failed, retry) {
                (false, _) => None,
                (true, None) => Some(Duration::from_millis(500)),
                (true, Some(wait)) => Some((wait * 2).min(Duration::from_secs(10))),
            };
        }
    }

    /// Records a change of one device's key; keys of other sites or malformed values are
    /// logged and ignored.
    fn note(&self, entry: Entry, pending: &mut BTreeMap<DeviceId, Change>) {
        let Some((site, device)) = parse_desired_key(&entry.key) else {
            tracing::warn!(key = %entry.key, "ignoring a desired-state key that names no device");
            return;
        };
        if site != self.site {
            return;
        }
        let change = match entry.operation {
            Operation::Delete | Operation::Purge => Change::Clear,
            Operation::Put => match serde_json::from_slice::<DesiredModel>(&entry.value) {
                Ok(desired) => Change::Want(Box::new(desired)),
                Err(err) => {
                    tracing::error!(key = %entry.key, revision = entry.revision, error = %err, "ignoring a desired state that is not a DesiredModel");
                    return;
                }
            },
        };
        pending.insert(device, change);
    }

    /// Applies every pending change; those that failed transiently stay pending. Returns
    /// whether any did.
    async fn apply_pending(&mut self, pending: &mut BTreeMap<DeviceId, Change>) -> bool {
        for (device, change) in std::mem::take(pending) {
            let span =
                tracing::info_span!("edgeops.gateway.apply_model", site = %self.site, %device);
            let result = match &change {
                Change::Want(desired) => self.apply(&device, desired).instrument(span).await,
                Change::Clear => {
                    self.clear(&device).await;
                    Ok(())
                }
            };
            if let Err(err) = result {
                tracing::warn!(%device, error = %err, "could not fetch the desired model; will retry");
                pending.insert(device, change);
            }
        }
        !pending.is_empty()
    }

    async fn apply(&mut self, device: &DeviceId, desired: &DesiredModel) -> Result<(), FetchError> {
        let slots = self.table.slots(device);
        if let Some(current) = slots.current.filter(|c| c.serves(desired)) {
            if self.reported.get(device) != Some(&Answered::of(desired)) {
                self.applied(device, &current, desired, AppliedFrom::Serving);
            }
            return Ok(());
        }
        if let Some(model) = self.table.roll_back_to(device, desired) {
            tracing::info!(%device, model = %desired.model, version = desired.version, "swapped back to the previous model");
            self.persist(device).await;
            self.applied(device, &model, desired, AppliedFrom::Previous);
            return Ok(());
        }
        if self.refused.get(device) == Some(&Answered::of(desired)) {
            return Ok(());
        }
        let bytes = match fetch(&self.hub_api, desired).await {
            Ok(bytes) => bytes,
            Err(FetchError::Refused(refusal)) => {
                self.refuse(device, desired, refusal);
                return Ok(());
            }
            Err(transient) => return Err(transient),
        };
        let trusted = self.trusted.clone();
        let candidate = desired.clone();
        let prepared = tokio::task::spawn_blocking(move || {
            ActiveModel::prepare(candidate, &bytes, &trusted).map(|model| (model, bytes))
        })
        .await
        .unwrap_or_else(|e| {
            Err(Refusal::new(
                RefusalReason::LoadFailed,
                format!("loading crashed: {e}"),
            ))
        });
        match prepared {
            Err(refusal) => self.refuse(device, desired, refusal),
            Ok((model, bytes)) => {
                let model = Arc::new(model);
                self.table.install(device, model.clone());
                tracing::info!(%device, model = %desired.model, version = desired.version, warm_up_us = model.warm_up_us(), "model applied");
                self.refused.remove(device);
                self.store_artifact(bytes).await;
                self.persist(device).await;
                self.applied(device, &model, desired, AppliedFrom::Fetched);
            }
        }
        Ok(())
    }

    async fn clear(&mut self, device: &DeviceId) {
        if self.table.clear(device) {
            tracing::info!(%device, "desired state removed: no model serves; forecasting persistence");
            self.persist(device).await;
        }
        self.reported.remove(device);
        self.refused.remove(device);
    }

    /// Reports `model` serving in answer to `desired` (whose rollout the report names).
    fn applied(
        &mut self,
        device: &DeviceId,
        model: &ActiveModel,
        desired: &DesiredModel,
        from: AppliedFrom,
    ) {
        self.stats.applied.fetch_add(1, Ordering::Relaxed);
        self.reporter.applied(device, model, desired.rollout, from);
        self.reported.insert(device.clone(), Answered::of(desired));
    }

    fn refuse(&mut self, device: &DeviceId, desired: &DesiredModel, refusal: Refusal) {
        tracing::warn!(%device, model = %desired.model, version = desired.version, reason = refusal.reason.as_str(), detail = %refusal.detail, "desired model refused; the serving model stays");
        self.stats.refused.fetch_add(1, Ordering::Relaxed);
        self.reporter.refused(device, desired, &refusal);
        self.refused.insert(device.clone(), Answered::of(desired));
    }

    /// Keeps the verified bytes for a restart without uplink (failures only cost that).
    async fn store_artifact(&self, bytes: Vec<u8>) {
        let Some(cache) = self.cache.clone() else {
            return;
        };
        let digest = edgeops_artifacts::sha256_hex(&bytes);
        let stored =
            tokio::task::spawn_blocking(move || cache.store_artifact(&digest, &bytes)).await;
        if let Ok(Err(err)) = stored {
            tracing::warn!(error = %err, "could not cache a model artifact");
        }
    }

    /// Writes what the device serves now to the cache.
    async fn persist(&self, device: &DeviceId) {
        let Some(cache) = self.cache.clone() else {
            return;
        };
        let slots = self.table.slots(device);
        let cached = CachedDevice {
            current: slots.current.map(|m| m.desired.clone()),
            previous: slots.previous.map(|m| m.desired.clone()),
        };
        let device = device.clone();
        let saved = tokio::task::spawn_blocking(move || cache.save_device(&device, &cached)).await;
        if let Ok(Err(err)) = saved {
            tracing::warn!(error = %err, "could not write the model cache");
        }
    }
}
