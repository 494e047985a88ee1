//! A run's outcome as events: the `completed` event built from what training produced, and
//! each run event published with the run's expected last sequence.

use std::time::Duration;

use async_nats::jetstream::Context;
use edgeops_contracts::Actor;
use edgeops_contracts::envelope::{EventData, EventEnvelope, EventMeta};
use edgeops_contracts::training::{
    CandidateResult, DatasetFingerprint, IncumbentResult, RUN_AGGREGATE, StoredArtifact,
    TrainingCompleted, TrainingRequested,
};
use edgeops_features::FeatureSpec;

use crate::domain::run::RunEvent;
use crate::pipeline::Trained;
use crate::{SERVICE_NAME, code_version};

/// Publishes `event` as caused by `cause`, if the run's last event is still `expected`;
/// returns the new event's sequence.
pub(super) async fn record(
    js: &Context,
    cause: &EventMeta,
    event: RunEvent,
    expected: u64,
) -> Result<u64, edgeops_bus::PublishEventError> {
    match event {
        RunEvent::Started(data) => publish(js, cause, data, expected).await,
        RunEvent::Completed(data) => publish(js, cause, *data, expected).await,
        RunEvent::Failed(data) => publish(js, cause, data, expected).await,
        RunEvent::Requested(data) => publish(js, cause, data, expected).await,
    }
}

async fn publish<T: EventData>(
    js: &Context,
    cause: &EventMeta,
    data: T,
    expected: u64,
) -> Result<u64, edgeops_bus::PublishEventError> {
    let actor = Actor::Service(SERVICE_NAME.into());
    let event =
        EventEnvelope::new(RUN_AGGREGATE, &cause.aggregate_id, actor, data).caused_by(cause);
    Ok(edgeops_bus::publish_event(js, &event, Some(expected))
        .await?
        .sequence)
}

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
        request,
    }
}
