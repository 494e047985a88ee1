//! The rollout's effects on the world: each device's desired state in the hub's KV bucket.
//!
//! What to write comes from the aggregate alone ([`crate::domain::desired`]), so every write is
//! idempotent and a write that failed (or a crash between an event and its writes) is repaired
//! by writing the aggregate's intent again: a rollout whose writes failed is marked dirty and
//! reconciled on the evaluator's next tick, and every unfinished rollout is reconciled now and
//! then regardless. A rollback writes back a device's previous version only where the key
//! still holds what this rollout put there (compare-and-set on the key's revision).

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use async_nats::jetstream::kv::{Operation, Store};
use edgeops_artifacts::SignedManifest;
use edgeops_contracts::deployment::{DesiredModel, desired_key};
use edgeops_contracts::streams;
use edgeops_registry_api::RegistryClient;
use futures::StreamExt;
use uuid::Uuid;

use crate::domain::{
    DeviceKey, Held, Intent, Rollout, RolloutEvent, Started, Write, intents, parse_device_key,
    write_for,
};

#[derive(Debug, thiserror::Error)]
pub enum EffectError {
    #[error("{0:?} is not a device key (<site>:<device>)")]
    BadDevice(String),
    #[error("the manifest of {model} v{version}: {reason}")]
    Manifest {
        model: String,
        version: u32,
        reason: String,
        /// The registry answered that there is no such (signed) version.
        missing: bool,
    },
    #[error("desired state of {key}: {reason}")]
    Bucket { key: String, reason: String },
    #[error("encoding desired state: {0}")]
    Encode(#[from] serde_json::Error),
}

/// A device's key and what it holds now (`None`: no key, or deleted).
#[derive(Debug, Clone)]
pub struct Slot {
    pub key: String,
    pub revision: u64,
    pub desired: Option<DesiredModel>,
}

pub struct Effects {
    kv: Store,
    registry: RegistryClient,
    manifests: Mutex<HashMap<(String, u32), SignedManifest>>,
    concurrency: usize,
    dirty: Mutex<BTreeSet<Uuid>>,
}

/// The bucket key of `<site>:<device>`.
pub fn key_of(device: &str) -> Result<String, EffectError> {
    let (site, device_id) =
        parse_device_key(device).ok_or_else(|| EffectError::BadDevice(device.to_owned()))?;
    Ok(desired_key(&site, &device_id))
}

impl Effects {
    pub fn new(kv: Store, registry: RegistryClient, concurrency: usize) -> Self {
        Self {
            kv,
            registry,
            manifests: Mutex::new(HashMap::new()),
            concurrency: concurrency.max(1),
            dirty: Mutex::new(BTreeSet::new()),
        }
    }

    /// Remembers a signed manifest (read from a device's current desired state), so a
    /// rollback does not need the registry.
    pub fn remember_manifest(&self, signed: &SignedManifest) {
        if let Ok(mut m) = self.manifests.lock() {
            let key = (signed.manifest.model.clone(), signed.manifest.version);
            m.entry(key).or_insert_with(|| signed.clone());
        }
    }

    /// The version's signed manifest, from memory or the registry.
    pub async fn manifest(&self, model: &str, version: u32) -> Result<SignedManifest, EffectError> {
        let key = (model.to_owned(), version);
        if let Some(signed) = self
            .manifests
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return Ok(signed);
        }
        let signed =
            self.registry
                .manifest(model, version)
                .await
                .map_err(|e| EffectError::Manifest {
                    model: model.to_owned(),
                    version,
                    missing: e.code() == Some(edgeops_registry_api::codes::NOT_FOUND),
                    reason: e.to_string(),
                })?;
        if signed.manifest.model != model || signed.manifest.version != version {
            return Err(EffectError::Manifest {
                model: model.to_owned(),
                version,
                reason: format!(
                    "the registry answered with {} v{}",
                    signed.manifest.model, signed.manifest.version
                ),
                missing: false,
            });
        }
        self.remember_manifest(&signed);
        Ok(signed)
    }

    /// What each device's key holds now, read concurrently.
    pub async fn slots(&self, devices: &[DeviceKey]) -> Result<Vec<Slot>, EffectError> {
        let keys = devices
            .iter()
            .map(|d| key_of(d))
            .collect::<Result<Vec<_>, _>>()?;
        futures::stream::iter(keys)
            .map(|key| async move {
                let failed = |e: &dyn std::fmt::Display| EffectError::Bucket {
                    key: key.clone(),
                    reason: e.to_string(),
                };
                let entry = self.kv.entry(key.clone()).await.map_err(|e| failed(&e))?;
                let Some(entry) = entry.filter(|e| e.operation == Operation::Put) else {
                    return Ok(Slot {
                        key,
                        revision: 0,
                        desired: None,
                    });
                };
                // A value that is not a DesiredModel is held by no rollout: overwritable.
                let desired = serde_json::from_slice::<DesiredModel>(&entry.value).ok();
                Ok(Slot {
                    revision: entry.revision,
                    desired,
                    key,
                })
            })
            .buffered(self.concurrency)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }

    fn desired(&self, id: Uuid, signed: SignedManifest) -> DesiredModel {
        DesiredModel {
            rollout: Some(id),
            model: signed.manifest.model.clone(),
            version: signed.manifest.version,
            signed,
            bucket: streams::MODELS_BUCKET.into(),
        }
    }

    /// A wave's switch: the new version into every device's key, without reading first.
    pub async fn switch(
        &self,
        id: Uuid,
        started: &Started,
        devices: &[DeviceKey],
    ) -> Result<(), EffectError> {
        let signed = self.manifest(&started.model, started.version).await?;
        let value: bytes::Bytes = serde_json::to_vec(&self.desired(id, signed))?.into();
        let keys = devices
            .iter()
            .map(|d| key_of(d))
            .collect::<Result<Vec<_>, _>>()?;
        let results: Vec<Result<(), EffectError>> = futures::stream::iter(keys)
            .map(|key| {
                let value = value.clone();
                async move {
                    self.kv
                        .put(key.clone(), value)
                        .await
                        .map(|_| ())
                        .map_err(|e| EffectError::Bucket {
                            key,
                            reason: e.to_string(),
                        })
                }
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        results.into_iter().collect()
    }

    /// Writes what the rollout intends wherever the bucket differs; returns the writes made.
    pub async fn reconcile(&self, id: Uuid, rollout: &Rollout) -> Result<usize, EffectError> {
        let Some(started) = &rollout.started else {
            return Ok(0);
        };
        let intents = intents(rollout);
        let devices: Vec<DeviceKey> = intents.iter().map(|(d, _)| d.clone()).collect();
        let slots = self.slots(&devices).await?;
        let mut writes = Vec::new();
        for ((_, intent), slot) in intents.into_iter().zip(slots) {
            let held = slot.desired.as_ref().map(|d| Held {
                rollout: d.rollout,
                version: d.version,
            });
            match write_for(intent, id, started.version, held) {
                Write::Nothing => {}
                write => writes.push((slot, write, matches!(intent, Intent::Previous(_)))),
            }
        }
        let count = writes.len();
        let results: Vec<Result<(), EffectError>> = futures::stream::iter(writes)
            .map(|(slot, write, guarded)| self.write(id, started, slot, write, guarded))
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        results.into_iter().collect::<Result<(), _>>()?;
        Ok(count)
    }

    async fn write(
        &self,
        id: Uuid,
        started: &Started,
        slot: Slot,
        write: Write,
        guarded: bool,
    ) -> Result<(), EffectError> {
        let failed = |e: &dyn std::fmt::Display| EffectError::Bucket {
            key: slot.key.clone(),
            reason: e.to_string(),
        };
        match write {
            Write::Nothing => Ok(()),
            Write::Put(version) => {
                let signed = self.manifest(&started.model, version).await?;
                let value = serde_json::to_vec(&self.desired(id, signed))?.into();
                let written = match guarded {
                    true => self
                        .kv
                        .update(&slot.key, value, slot.revision)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    false => self
                        .kv
                        .put(&slot.key, value)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                };
                match written {
                    Ok(()) => Ok(()),
                    // Someone else wrote the key since it was read: it is theirs now.
                    Err(err) if guarded => {
                        tracing::info!(key = %slot.key, error = %err, "key moved on; not rolled back");
                        Ok(())
                    }
                    Err(err) => Err(failed(&err)),
                }
            }
            Write::Delete => match self
                .kv
                .delete_expect_revision(&slot.key, Some(slot.revision))
                .await
            {
                Ok(()) => Ok(()),
                Err(err) => {
                    tracing::info!(key = %slot.key, error = %err, "key moved on; not deleted");
                    Ok(())
                }
            },
        }
    }

    /// Carries out what `events` (just appended to `rollout`, which now includes them) ask
    /// of the bucket. A failure marks the rollout for reconciling on the next tick.
    pub async fn after(&self, id: Uuid, rollout: &Rollout, events: &[RolloutEvent]) {
        let Some(started) = &rollout.started else {
            return;
        };
        for event in events {
            let done = match event {
                RolloutEvent::WaveAdvanced { devices, .. } => {
                    self.switch(id, started, devices).await.map(|_| ())
                }
                RolloutEvent::RolledBack { .. } => self.reconcile(id, rollout).await.map(|_| ()),
                _ => Ok(()),
            };
            if let Err(err) = done {
                tracing::warn!(rollout = %id, error = %err, "desired state not fully written; reconciling on the next tick");
                self.mark_dirty(id);
            }
        }
    }

    pub fn mark_dirty(&self, id: Uuid) {
        if let Ok(mut dirty) = self.dirty.lock() {
            dirty.insert(id);
        }
    }

    pub fn take_dirty(&self) -> Vec<Uuid> {
        self.dirty
            .lock()
            .map(|mut d| std::mem::take(&mut *d).into_iter().collect())
            .unwrap_or_default()
    }
}
