//! What monitoring needs of a model version's signed manifest (its training reference, spec
//! and horizon), asked of the registry once per version and kept: a version's manifest never
//! changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use edgeops_contracts::manifest::Manifest;
use edgeops_contracts::monitoring::ModelVersionRef;
use edgeops_registry_api::{ClientError, RegistryClient, codes};

#[derive(Clone)]
pub struct References {
    registry: RegistryClient,
    known: Arc<Mutex<HashMap<ModelVersionRef, Arc<Manifest>>>>,
}

impl References {
    pub fn new(nats: async_nats::Client) -> Self {
        Self {
            registry: RegistryClient::new(nats),
            known: Arc::default(),
        }
    }

    /// The version's manifest; `None` when the registry has no signed manifest for it (a
    /// version it does not know: its inputs are not judged). An unreachable registry is an
    /// error, so the summary is judged again later instead of losing the verdict.
    pub async fn manifest(&self, of: &ModelVersionRef) -> anyhow::Result<Option<Arc<Manifest>>> {
        if let Some(known) = self.known.lock().ok().and_then(|k| k.get(of).cloned()) {
            return Ok(Some(known));
        }
        match self.registry.manifest(&of.model, of.version).await {
            Ok(signed) => {
                let manifest = Arc::new(signed.manifest);
                if let Ok(mut known) = self.known.lock() {
                    known.insert(of.clone(), manifest.clone());
                }
                Ok(Some(manifest))
            }
            Err(ClientError::Refused { code, .. }) if code == codes::NOT_FOUND => Ok(None),
            Err(err) => Err(anyhow::anyhow!(
                "asking the registry for {}: {err}",
                of.model
            )),
        }
    }
}
