//! A model version's state, folded from its events.

use chrono::{DateTime, Utc};
use edgeops_artifacts::{Manifest, SignedManifest};

use crate::domain::error::DomainError;
use crate::domain::events::{ModelVersionEvent, Registered};
use crate::domain::names::ModelVersionKey;
use edgeops_registry_api::Stage;
use edgeops_registry_api::metrics::HoldoutMetrics;

#[derive(Debug, Clone, PartialEq, Default)]
pub enum ModelVersionState {
    /// No event yet: only `Register` is accepted.
    #[default]
    Unregistered,
    Registered(Box<ModelVersion>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelVersion {
    pub registration: Registered,
    pub stage: Stage,
    /// When the version entered `stage`; `None` while in dev since registration.
    pub stage_since: Option<DateTime<Utc>>,
    pub metrics: Option<HoldoutMetrics>,
    pub signed: Option<SignedManifest>,
}

impl ModelVersion {
    pub fn key(&self) -> ModelVersionKey {
        ModelVersionKey {
            model: self.registration.model.clone(),
            version: self.registration.version,
        }
    }

    /// The manifest the registry signs for this version. `created_at` is the signing time
    /// (the caller's clock: this module reads none).
    pub fn manifest_to_sign(&self, created_at: DateTime<Utc>) -> Result<Manifest, DomainError> {
        let metrics = self
            .metrics
            .as_ref()
            .ok_or_else(|| DomainError::NoMetrics {
                action: "signing the manifest".into(),
            })?;
        let r = &self.registration;
        Ok(Manifest {
            model: r.model.to_string(),
            version: r.version,
            artifact: r.artifact.clone(),
            feature_spec: r.feature_spec.clone(),
            horizon_bins: r.horizon_bins,
            metrics: metrics.manifest_metrics(),
            lineage: r.lineage.clone(),
            created_at,
            reference: r.reference.clone(),
        })
    }
}

impl ModelVersionState {
    pub fn version(&self) -> Option<&ModelVersion> {
        match self {
            ModelVersionState::Unregistered => None,
            ModelVersionState::Registered(version) => Some(version),
        }
    }

    pub fn stage(&self) -> Option<Stage> {
        self.version().map(|v| v.stage)
    }
}

/// Folds one event into the state. Total: events come from `decide`, so an event that does
/// not fit the state (one not preceded by `Registered`) can only be a stream written by hand,
/// and is ignored rather than allowed to invent a version.
pub fn apply(state: ModelVersionState, event: &ModelVersionEvent) -> ModelVersionState {
    let mut version = match (state, event) {
        (ModelVersionState::Unregistered, ModelVersionEvent::Registered(registration)) => {
            return ModelVersionState::Registered(Box::new(ModelVersion {
                registration: registration.clone(),
                stage: Stage::Dev,
                stage_since: None,
                metrics: None,
                signed: None,
            }));
        }
        (ModelVersionState::Registered(version), _) => version,
        (unregistered, _) => return unregistered,
    };
    match event {
        ModelVersionEvent::Registered(_) | ModelVersionEvent::GateFailed(_) => {}
        ModelVersionEvent::MetricsAttached(attached) => {
            version.metrics = Some(attached.metrics.clone());
        }
        ModelVersionEvent::ManifestSigned(signed) => version.signed = Some(signed.signed.clone()),
        ModelVersionEvent::StageChanged(change) => {
            version.stage = change.to;
            version.stage_since = Some(change.at);
        }
    }
    ModelVersionState::Registered(version)
}
