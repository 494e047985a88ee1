//! A completed training run as a registration: the pure half of what the registry does when
//! training reports a model. Everything is checked here, before a version number is spent on
//! a run that could never register, and the steps a registration goes through are planned
//! from the version's own events, so a redelivered completion resumes where the last attempt
//! stopped instead of starting over.

use edgeops_artifacts::{FeatureSpecRef, Lineage};
use edgeops_contracts::streams::MODELS_BUCKET;
use edgeops_contracts::training::{Scores, TrainingCompleted};

use crate::domain::commands::Command;
use crate::domain::decide::decide;
use crate::domain::events::{ModelVersionEvent, Registered};
use crate::domain::state::ModelVersionState;
use edgeops_registry_api::Stage;
use edgeops_registry_api::metrics::{
    BaselineScores, CandidateScores, Holdout, HoldoutMetrics, IncumbentScore,
};
use edgeops_registry_api::{ModelName, Scope};

/// What a completed run proposes to register as version `registered.version`.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub registered: Registered,
    pub metrics: HoldoutMetrics,
}

/// Reads the run's result as a registration of `version` with its holdout metrics.
pub fn proposal(done: &TrainingCompleted, version: u32) -> Result<Proposal, String> {
    let model = ModelName::parse(done.request.model.as_str()).map_err(|e| e.to_string())?;
    let winner = done.winner().ok_or_else(|| {
        format!(
            "the winner {:?} is not among the run's candidates",
            done.winner
        )
    })?;
    if done.artifact.bucket != MODELS_BUCKET {
        return Err(format!(
            "the artifact is in bucket {:?}; gateways fetch models from {MODELS_BUCKET:?}",
            done.artifact.bucket
        ));
    }
    let registered = Registered {
        model,
        version,
        scope: Scope::from(&done.request.scope),
        artifact: done.artifact.artifact.clone(),
        feature_spec: FeatureSpecRef {
            name: done.dataset.spec_name.clone(),
            version: done.dataset.spec_version,
            inputs: done.feature_names.clone(),
        },
        horizon_bins: done.dataset.horizon_bins,
        lineage: Lineage {
            training_run: done.run,
            dataset_fingerprint: done.dataset.id(),
            code_version: done.code_version.clone(),
        },
        holdout: Holdout {
            fingerprint: done.holdout_fingerprint.clone(),
            rows: done.holdout_rows as u64,
        },
        reference: done.reference.clone(),
    };
    let baseline = |s: &Scores| BaselineScores {
        rmse: s.rmse,
        mae: s.mae,
    };
    let metrics = HoldoutMetrics {
        candidate: CandidateScores {
            rmse: winner.holdout.rmse,
            mae: winner.holdout.mae,
            // Undefined when persistence was perfect in training (a zero scale).
            mase: Some(winner.holdout.mase).filter(|m| m.is_finite() && *m >= 0.0),
        },
        persistence: baseline(&done.persistence),
        seasonal_naive: done.seasonal_naive.as_ref().map(baseline),
        incumbent: done
            .incumbent
            .as_ref()
            .filter(|i| i.model == done.request.model)
            .map(|i| IncumbentScore {
                version: i.version,
                rmse: i.holdout.rmse,
            }),
    };
    Ok(Proposal {
        registered,
        metrics,
    })
}

/// Why the run could never register, checked without a version number: the registration as
/// version 1 goes through [`decide`], and the metrics through their own validation (version 0
/// stands for "not allocated yet" and matches no incumbent, versions starting at 1).
pub fn precheck(done: &TrainingCompleted) -> Result<(), String> {
    let Proposal {
        registered,
        metrics,
    } = proposal(done, 1)?;
    decide(&ModelVersionState::default(), Command::Register(registered))
        .map_err(|e| e.to_string())?;
    metrics
        .validate(0)
        .map_err(|reason| format!("invalid metrics: {reason}"))
}

/// The next thing registration must record for a version, from what its stream holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Register,
    AttachMetrics,
    Sign,
    /// Try `dev -> staging`; the staging gate decides (a refusal is recorded as `GateFailed`).
    AutoStage,
    Done,
}

/// Plans the next step. Auto-staging is tried once: never again once the version has moved or
/// a promotion to staging was refused, whoever asked.
pub fn next_step(
    state: &ModelVersionState,
    events: &[ModelVersionEvent],
    auto_stage: bool,
) -> Step {
    let Some(version) = state.version() else {
        return Step::Register;
    };
    if version.metrics.is_none() {
        return Step::AttachMetrics;
    }
    if version.signed.is_none() {
        return Step::Sign;
    }
    let staging_settled = events.iter().any(|e| match e {
        ModelVersionEvent::StageChanged(_) => true,
        ModelVersionEvent::GateFailed(failed) => failed.to == Stage::Staging,
        _ => false,
    });
    if auto_stage && version.stage == Stage::Dev && !staging_settled {
        return Step::AutoStage;
    }
    Step::Done
}

#[cfg(test)]
mod tests;
