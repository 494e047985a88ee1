//! The decision function: a command against a model version's state becomes events or a
//! [`DomainError`]. Order of checks, for every command: is there a version, is it still
//! changeable, is the command well-formed, then the rules proper.

use edgeops_artifacts::{Manifest, PublicKey, SignedManifest, TrustedKeys, verify_manifest};
use edgeops_contracts::Actor;
use edgeops_contracts::monitoring::FeatureReference;

use crate::domain::commands::{Command, ProdSummary};
use crate::domain::error::DomainError;
use crate::domain::events::{
    GateFailed, ManifestSigned, MetricsAttached, ModelVersionEvent, Registered, StageChanged,
};
use crate::domain::gates;
use crate::domain::state::{ModelVersion, ModelVersionState};
use edgeops_registry_api::Stage;
use edgeops_registry_api::metrics::{HoldoutMetrics, check_score};

pub fn decide(
    state: &ModelVersionState,
    command: Command,
) -> Result<Vec<ModelVersionEvent>, DomainError> {
    match (state.version(), command) {
        (None, Command::Register(registration)) => register(registration),
        (Some(existing), Command::Register(_)) => Err(DomainError::AlreadyRegistered {
            key: existing.key(),
        }),
        (None, _) => Err(DomainError::NotRegistered),
        (
            Some(v),
            Command::AttachMetrics {
                holdout_fingerprint,
                metrics,
            },
        ) => attach_metrics(v, holdout_fingerprint, metrics),
        (Some(v), Command::SignManifest { signed, signer }) => sign_manifest(v, *signed, &signer),
        (
            Some(v),
            Command::Promote {
                to,
                current_prod,
                actor,
                at,
            },
        ) => promote(v, to, current_prod, actor, at),
        (Some(v), Command::Archive { actor, reason, at }) => archive(v, actor, reason, at),
    }
}

fn register(r: Registered) -> Result<Vec<ModelVersionEvent>, DomainError> {
    let invalid = |reason: &str| {
        Err(DomainError::InvalidRegistration {
            reason: reason.to_owned(),
        })
    };
    let is_digest =
        |s: &str| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let inputs = &r.feature_spec.inputs;
    let unique = inputs
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        == inputs.len();
    if r.version == 0 {
        return invalid("versions start at 1");
    }
    if r.artifact.object_name.is_empty() || r.artifact.size_bytes == 0 {
        return invalid("the artifact needs an object name and at least one byte");
    }
    if !is_digest(&r.artifact.sha256) {
        return invalid("the artifact's sha256 must be 64 lowercase hex characters");
    }
    if r.feature_spec.name.is_empty() || inputs.is_empty() || !unique {
        return invalid("the feature spec needs a name and distinct, non-empty inputs");
    }
    if r.horizon_bins == 0 {
        return invalid("horizon_bins must be at least 1");
    }
    if r.holdout.fingerprint.is_empty() || r.holdout.rows == 0 {
        return invalid("the holdout needs a fingerprint and at least one row");
    }
    if r.lineage.dataset_fingerprint.is_empty() || r.lineage.code_version.is_empty() {
        return invalid("lineage needs the dataset fingerprint and the code version");
    }
    let described = r.reference.iter().map(|feature| &feature.name);
    if !r.reference.is_empty() && !described.eq(inputs.iter()) {
        return invalid("the reference must describe the inputs, one each, in input order");
    }
    // JSON has no spelling for NaN or infinity: such a number would make the event unreadable.
    if !r.reference.iter().all(is_finite_reference) {
        return invalid("the reference's numbers must all be finite");
    }
    Ok(vec![ModelVersionEvent::Registered(r)])
}

fn is_finite_reference(feature: &FeatureReference) -> bool {
    let scalars = [feature.min, feature.max, feature.mean, feature.std];
    feature
        .edges
        .iter()
        .chain(&feature.shares)
        .chain(&scalars)
        .all(|v| v.is_finite())
}

fn attach_metrics(
    v: &ModelVersion,
    holdout_fingerprint: String,
    metrics: HoldoutMetrics,
) -> Result<Vec<ModelVersionEvent>, DomainError> {
    if v.stage == Stage::Archived {
        return Err(DomainError::Archived);
    }
    if v.metrics.is_some() {
        return Err(DomainError::MetricsAlreadyAttached);
    }
    if holdout_fingerprint != v.registration.holdout.fingerprint {
        return Err(DomainError::HoldoutMismatch {
            registered: v.registration.holdout.fingerprint.clone(),
            given: holdout_fingerprint,
        });
    }
    metrics
        .validate(v.registration.version)
        .map_err(|reason| DomainError::InvalidMetrics { reason })?;
    Ok(vec![ModelVersionEvent::MetricsAttached(MetricsAttached {
        holdout_fingerprint,
        metrics,
    })])
}

/// Accepts a signature only over exactly this version's manifest, made by `signer`. Whether
/// `signer` is trusted is each verifier's business; here the check is that the record is
/// self-consistent, so nobody downstream is handed a manifest that cannot verify.
fn sign_manifest(
    v: &ModelVersion,
    signed: SignedManifest,
    signer: &PublicKey,
) -> Result<Vec<ModelVersionEvent>, DomainError> {
    if v.stage == Stage::Archived {
        return Err(DomainError::Archived);
    }
    let expected = v.manifest_to_sign(signed.manifest.created_at)?;
    if let Some(field) = first_difference(&expected, &signed.manifest) {
        return Err(DomainError::ManifestMismatch { field });
    }
    if signed.key_id != signer.key_id() {
        return Err(DomainError::SignerMismatch {
            claimed: signed.key_id.clone(),
            signer: signer.key_id().to_owned(),
        });
    }
    verify_manifest(&signed, &TrustedKeys::from_keys([signer.clone()]))
        .map_err(DomainError::BadSignature)?;
    Ok(vec![ModelVersionEvent::ManifestSigned(ManifestSigned {
        signed,
    })])
}

fn first_difference(expected: &Manifest, actual: &Manifest) -> Option<&'static str> {
    let differs = [
        ("model", expected.model != actual.model),
        ("version", expected.version != actual.version),
        ("artifact", expected.artifact != actual.artifact),
        ("feature_spec", expected.feature_spec != actual.feature_spec),
        ("horizon_bins", expected.horizon_bins != actual.horizon_bins),
        ("metrics", expected.metrics != actual.metrics),
        ("lineage", expected.lineage != actual.lineage),
        ("reference", expected.reference != actual.reference),
    ];
    differs
        .into_iter()
        .find(|(_, d)| *d)
        .map(|(field, _)| field)
}

fn promote(
    v: &ModelVersion,
    to: Stage,
    current_prod: Option<ProdSummary>,
    actor: Actor,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<ModelVersionEvent>, DomainError> {
    if to == Stage::Archived {
        return Err(DomainError::PromoteToArchived);
    }
    if to == v.stage {
        return Err(DomainError::AlreadyInStage { stage: to });
    }
    if !v.stage.can_move_to(to) {
        return Err(DomainError::IllegalTransition { from: v.stage, to });
    }
    let metrics = v.metrics.as_ref().ok_or_else(|| DomainError::NoMetrics {
        action: format!("promotion to {to}"),
    })?;
    if v.signed.is_none() {
        return Err(DomainError::NotSigned { to });
    }
    if let Some(rmse) = current_prod.as_ref().and_then(|p| p.rmse_on_this_holdout) {
        check_score("the prod version's rmse on this holdout", rmse)
            .map_err(|reason| DomainError::InvalidMetrics { reason })?;
    }
    let holdout = &v.registration.holdout;
    Ok(
        match gates::check(to, holdout, metrics, current_prod.as_ref()) {
            Ok(passed) => vec![ModelVersionEvent::StageChanged(StageChanged {
                from: v.stage,
                to,
                actor,
                reason: passed.join("; "),
                at,
            })],
            Err(failures) => failures
                .into_iter()
                .map(|f| {
                    ModelVersionEvent::GateFailed(GateFailed {
                        to,
                        gate: f.gate,
                        reason: f.reason,
                    })
                })
                .collect(),
        },
    )
}

fn archive(
    v: &ModelVersion,
    actor: Actor,
    reason: String,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<ModelVersionEvent>, DomainError> {
    if v.stage == Stage::Archived {
        return Err(DomainError::AlreadyInStage {
            stage: Stage::Archived,
        });
    }
    if reason.trim().is_empty() {
        return Err(DomainError::MissingReason);
    }
    Ok(vec![ModelVersionEvent::StageChanged(StageChanged {
        from: v.stage,
        to: Stage::Archived,
        actor,
        reason,
        at,
    })])
}

#[cfg(test)]
mod tests;
