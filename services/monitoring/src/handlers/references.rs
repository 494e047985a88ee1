//! What monitoring needs of a model version's signed manifest (its training reference, spec
//! and horizon). A version's manifest never changes, so each is kept once found. It is looked
//! up first in the device's desired state (`edgeops_desired`, the manifest the gateway
//! verified and serves, on the hub), then asked of the registry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_nats::jetstream::kv;
use edgeops_contracts::deployment::{DesiredModel, desired_key};
use edgeops_contracts::manifest::Manifest;
use edgeops_contracts::monitoring::ModelVersionRef;
use edgeops_contracts::{DeviceId, SiteId};
use edgeops_registry_api::{ClientError, RegistryClient, codes};

#[derive(Clone)]
pub struct References {
    registry: RegistryClient,
    desired: Option<kv::Store>,
    known: Arc<Mutex<HashMap<ModelVersionRef, Arc<Manifest>>>>,
}

impl References {
    pub fn new(nats: async_nats::Client, desired: Option<kv::Store>) -> Self {
        Self {
            registry: RegistryClient::new(nats),
            desired,
            known: Arc::default(),
        }
    }

    /// The version's manifest; `None` when neither the device's desired state nor the
    /// registry has it (its inputs are not judged). An unreachable registry is an error, so
    /// the summary is judged again later instead of losing the verdict.
    pub async fn manifest(
        &self,
        of: &ModelVersionRef,
        site: &SiteId,
        device: &DeviceId,
    ) -> anyhow::Result<Option<Arc<Manifest>>> {
        if let Some(known) = self.known.lock().ok().and_then(|k| k.get(of).cloned()) {
            return Ok(Some(known));
        }
        let found = match self.desired_manifest(of, site, device).await {
            Some(manifest) => Some(manifest),
            None => self.registry_manifest(of).await?,
        };
        if let (Some(manifest), Ok(mut known)) = (&found, self.known.lock()) {
            known.insert(of.clone(), manifest.clone());
        }
        Ok(found)
    }

    async fn desired_manifest(
        &self,
        of: &ModelVersionRef,
        site: &SiteId,
        device: &DeviceId,
    ) -> Option<Arc<Manifest>> {
        let entry = self
            .desired
            .as_ref()?
            .get(desired_key(site, device))
            .await
            .ok()??;
        let desired: DesiredModel = serde_json::from_slice(&entry).ok()?;
        let manifest = desired.signed.manifest;
        (manifest.model == of.model && manifest.version == of.version).then(|| Arc::new(manifest))
    }

    async fn registry_manifest(
        &self,
        of: &ModelVersionRef,
    ) -> anyhow::Result<Option<Arc<Manifest>>> {
        match self.registry.manifest(&of.model, of.version).await {
            Ok(signed) => Ok(Some(Arc::new(signed.manifest))),
            Err(ClientError::Refused { code, .. }) if code == codes::NOT_FOUND => Ok(None),
            Err(err) => Err(anyhow::anyhow!(
                "asking the registry for {}: {err}",
                of.model
            )),
        }
    }
}
