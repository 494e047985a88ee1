//! A run's outcome as an event: the `completed` event built from what training produced.

use std::time::Duration;

use edgeops_contracts::training::{
    CandidateResult, DatasetFingerprint, IncumbentResult, StoredArtifact, TrainingCompleted,
    TrainingRequested,
};
use edgeops_features::FeatureSpec;

use crate::code_version;
use crate::pipeline::Trained;

/// The `completed` event of a run that trained `trained` and stored it as `artifact`.
pub(super) fn completed(
    requested: &TrainingRequested,
    spec: &FeatureSpec,
    trained: Trained,
    incumbent: Option<IncumbentResult>,
    artifact: StoredArtifact,
    elapsed: Duration,
) -> TrainingCompleted {
    let request = requested.request.clone();
    let report = &trained.report;
    TrainingCompleted {
        run: requested.run,
        dataset: DatasetFingerprint {
            scope: request.scope.clone(),
            from: request.from,
            to: request.to,
            spec_name: spec.name.clone(),
            spec_version: spec.version,
            horizon_bins: request.horizon_bins,
            rows: trained.dataset.rows(),
            content_sha256: trained.dataset.content_sha256.clone(),
        },
        feature_names: trained.dataset.feature_names.clone(),
        holdout_fingerprint: report.holdout_fingerprint.clone(),
        holdout_from: report.holdout_from,
        train_rows: report.train_rows,
        holdout_rows: report.holdout_rows,
        persistence: report.persistence,
        seasonal_naive: report.seasonal_naive,
        candidates: report
            .candidates
            .iter()
            .map(|c| CandidateResult {
                name: c.name.clone(),
                params: c.params.clone(),
                validation_rmse: c.validation_rmse,
                holdout: c.holdout,
                skill_vs_persistence: c.skill_vs_persistence,
                fit_seconds: c.fit_seconds,
            })
            .collect(),
        winner: report.winner().name.clone(),
        incumbent,
        artifact,
        export_check: trained.export_check,
        code_version: code_version(),
        seconds: elapsed.as_secs_f64(),
        reference: trained.reference,
        request,
    }
}
