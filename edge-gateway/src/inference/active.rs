//! A model ready to serve: verified against the trusted keys, loaded into ONNX Runtime, its
//! feature spec read from its own metadata and checked, and warmed up. Nothing reaches the
//! model table except through [`ActiveModel::prepare`], so a forecast is never made by a model
//! that was not verified, or that is still loading.

use std::time::Duration;

use edgeops_artifacts::{TrustedKeys, VerifyError, verify};
use edgeops_contracts::deployment::{DesiredModel, RefusalReason};
use edgeops_features::FeatureSpec;
use edgeops_inference::Model;

/// Metadata key holding the feature spec (JSON) the model was trained on.
pub const SPEC_METADATA_KEY: &str = "edgeops.feature_spec";

/// Why a desired model was not loaded; the previous one keeps serving.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {detail}", reason.as_str())]
pub struct Refusal {
    pub reason: RefusalReason,
    pub detail: String,
}

impl Refusal {
    pub fn new(reason: RefusalReason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }
}

impl From<VerifyError> for Refusal {
    fn from(err: VerifyError) -> Self {
        let reason = match err {
            VerifyError::UnknownKey { .. } => RefusalReason::UnknownKey,
            VerifyError::BadSignature { .. } => RefusalReason::BadSignature,
            VerifyError::SizeMismatch { .. } => RefusalReason::SizeMismatch,
            VerifyError::DigestMismatch { .. } => RefusalReason::DigestMismatch,
        };
        Self::new(reason, err.to_string())
    }
}

/// A verified, loaded, warmed-up model and the desired state it answers.
pub struct ActiveModel {
    pub desired: DesiredModel,
    pub model: Model,
    /// The spec from the model's metadata: the gateway computes exactly these inputs.
    pub spec: FeatureSpec,
    pub warm_up: Duration,
}

impl std::fmt::Debug for ActiveModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveModel")
            .field("model", &self.desired.model)
            .field("version", &self.desired.version)
            .field("spec", &self.spec.name)
            .finish_non_exhaustive()
    }
}

impl ActiveModel {
    /// Checks, in this order: the desired state names its manifest's model and version; the
    /// manifest is signed by a trusted key and the bytes are the ones it names (before any
    /// byte reaches ONNX Runtime); ONNX Runtime loads it; its feature spec is present, valid and
    /// the one the manifest names; then runs the warm-up rows. Blocking: call it off the
    /// async runtime's worker threads.
    pub fn prepare(
        desired: DesiredModel,
        artifact: &[u8],
        trusted: &TrustedKeys,
    ) -> Result<Self, Refusal> {
        let manifest = &desired.signed.manifest;
        if manifest.model != desired.model || manifest.version != desired.version {
            return Err(Refusal::new(
                RefusalReason::ManifestMismatch,
                format!(
                    "desired state names {} v{} but its signed manifest is {} v{}",
                    desired.model, desired.version, manifest.model, manifest.version
                ),
            ));
        }
        verify(&desired.signed, artifact, trusted)?;
        let model = Model::load(artifact)
            .map_err(|e| Refusal::new(RefusalReason::LoadFailed, e.to_string()))?;
        let spec = spec_of(&model, &desired)?;
        let warm_up = model
            .warm_up()
            .map_err(|e| Refusal::new(RefusalReason::LoadFailed, format!("warm-up: {e}")))?;
        Ok(Self {
            desired,
            model,
            spec,
            warm_up,
        })
    }

    /// Whether this model is exactly what `desired` asks for: the same signed manifest (same
    /// digest, same signature) from the same bucket.
    pub fn serves(&self, desired: &DesiredModel) -> bool {
        self.desired.signed == desired.signed && self.desired.bucket == desired.bucket
    }

    pub fn horizon_bins(&self) -> u32 {
        self.desired.signed.manifest.horizon_bins
    }

    pub fn warm_up_us(&self) -> u64 {
        u64::try_from(self.warm_up.as_micros()).unwrap_or(u64::MAX)
    }
}

/// The model's feature spec, refused unless it can be computed and matches the model's input
/// width and the signed manifest's feature list.
fn spec_of(model: &Model, desired: &DesiredModel) -> Result<FeatureSpec, Refusal> {
    let bad = |detail: String| Refusal::new(RefusalReason::BadFeatureSpec, detail);
    let json = model
        .metadata()
        .get(SPEC_METADATA_KEY)
        .ok_or_else(|| bad(format!("the model has no {SPEC_METADATA_KEY} metadata")))?;
    let spec: FeatureSpec = serde_json::from_str(json)
        .map_err(|e| bad(format!("{SPEC_METADATA_KEY} is not a feature spec: {e}")))?;
    if spec.interval_secs <= 0 || !spec.metrics.contains(&spec.target) {
        return Err(bad(format!(
            "spec {} v{} has interval {} s and target {:?} outside its metrics",
            spec.name, spec.version, spec.interval_secs, spec.target
        )));
    }
    let names = spec.names();
    if names.len() != model.feature_count() {
        return Err(bad(format!(
            "spec {} v{} has {} features but the model takes {}",
            spec.name,
            spec.version,
            names.len(),
            model.feature_count()
        )));
    }
    let signed = &desired.signed.manifest.feature_spec;
    if signed.name != spec.name || signed.version != spec.version || signed.inputs != names {
        return Err(bad(format!(
            "the manifest names spec {} v{} ({} inputs) but the model carries {} v{} ({} inputs)",
            signed.name,
            signed.version,
            signed.inputs.len(),
            spec.name,
            spec.version,
            names.len()
        )));
    }
    Ok(spec)
}
