//! The registry's read model in Postgres (schema `registry`), written from the model-version
//! events. Applying an event is one transaction that first records the event's id in
//! `registry.applied_events`: an event delivered again finds its id there and changes nothing,
//! so redelivery and replays are harmless. [`rebuild`] empties the tables and replays the
//! stream; nothing here reads the clock, so a rebuild yields the same rows.

pub mod queries;

use async_nats::jetstream::Context;
pub use edgeops_eventsourcing::{Applied, ProjectionError, RebuildReport};
use edgeops_eventsourcing::{Projection, Recorded, column};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::domain::{ModelVersionEvent, ModelVersionKey, ModelVersionState};

/// The registry's tables, written from model-version events.
pub struct RegistryProjection;

impl Projection for RegistryProjection {
    type Aggregate = ModelVersionState;
    const TABLES: &'static str = "registry.gate_failures, registry.stage_changes, \
        registry.model_versions, registry.models, registry.applied_events";

    async fn apply(
        &self,
        conn: &mut PgConnection,
        recorded: &Recorded<ModelVersionEvent>,
    ) -> Result<Applied, ProjectionError> {
        apply_in(conn, recorded).await
    }
}

/// Empties every registry table and replays all model-version events, in one transaction
/// (see [`edgeops_eventsourcing::rebuild`] for why this is safe while the service runs).
pub async fn rebuild(pool: &PgPool, js: &Context) -> Result<RebuildReport, ProjectionError> {
    edgeops_eventsourcing::rebuild(&RegistryProjection, pool, js).await
}

/// A value's serde text (`"staging"` -> `staging`): how stages and gates are stored.
fn text<T: Serialize>(value: &T) -> Result<String, ProjectionError> {
    match serde_json::to_value(value)? {
        serde_json::Value::String(text) => Ok(text),
        other => Ok(other.to_string()),
    }
}

fn int(value: u64, what: &str) -> Result<i64, ProjectionError> {
    column(value, what)
}

fn int4(value: u32, what: &str) -> Result<i32, ProjectionError> {
    column(value, what)
}

async fn apply_in(
    tx: &mut PgConnection,
    recorded: &Recorded<ModelVersionEvent>,
) -> Result<Applied, ProjectionError> {
    let (sequence, meta, event) = (recorded.sequence, &recorded.meta, &recorded.event);
    let key = ModelVersionKey::from_aggregate_id(&meta.aggregate_id).ok_or_else(|| {
        ProjectionError::BadAggregateId {
            id: meta.aggregate_id.clone(),
            expected: "model-version id (<model>.<version>)",
        }
    })?;
    let (model, version) = (key.model.as_str(), int4(key.version, "version")?);
    let recorded = sqlx::query(
        "INSERT INTO registry.applied_events
             (event_id, stream_sequence, event_type, model, version, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(meta.id)
    .bind(int(sequence, "stream sequence")?)
    .bind(&meta.event_type)
    .bind(model)
    .bind(version)
    .bind(meta.occurred_at)
    .execute(&mut *tx)
    .await?;
    if recorded.rows_affected() == 0 {
        return Ok(Applied::Duplicate);
    }
    if let ModelVersionEvent::Registered(r) = event {
        sqlx::query(
            "INSERT INTO registry.models (model, first_registered_at) VALUES ($1, $2)
             ON CONFLICT (model) DO NOTHING",
        )
        .bind(model)
        .bind(meta.occurred_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO registry.model_versions
                 (model, version, scope, stage, stage_since, registered_at, registered_by,
                  artifact_object, artifact_sha256, artifact_size_bytes, feature_spec,
                  horizon_bins, holdout_fingerprint, holdout_rows, training_run,
                  dataset_fingerprint, code_version)
             VALUES ($1, $2, $3, 'dev', NULL, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                     $13, $14, $15)
             ON CONFLICT (model, version) DO NOTHING",
        )
        .bind(model)
        .bind(version)
        .bind(r.scope.to_string())
        .bind(meta.occurred_at)
        .bind(serde_json::to_value(&meta.actor)?)
        .bind(&r.artifact.object_name)
        .bind(&r.artifact.sha256)
        .bind(int(r.artifact.size_bytes, "artifact size")?)
        .bind(serde_json::to_value(&r.feature_spec)?)
        .bind(int4(r.horizon_bins, "horizon_bins")?)
        .bind(&r.holdout.fingerprint)
        .bind(int(r.holdout.rows, "holdout rows")?)
        .bind(r.lineage.training_run)
        .bind(&r.lineage.dataset_fingerprint)
        .bind(&r.lineage.code_version)
        .execute(&mut *tx)
        .await?;
        return Ok(Applied::New);
    }
    let exists: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM registry.model_versions WHERE model = $1 AND version = $2",
    )
    .bind(model)
    .bind(version)
    .fetch_optional(&mut *tx)
    .await?;
    if exists.is_none() {
        tracing::warn!(%key, event = %meta.event_type, "event before registration ignored");
        return Ok(Applied::Orphan);
    }
    match event {
        ModelVersionEvent::Registered(_) => {}
        ModelVersionEvent::MetricsAttached(attached) => {
            sqlx::query(
                "UPDATE registry.model_versions
                 SET metrics = $3, candidate_rmse = $4, persistence_rmse = $5
                 WHERE model = $1 AND version = $2",
            )
            .bind(model)
            .bind(version)
            .bind(serde_json::to_value(&attached.metrics)?)
            .bind(attached.metrics.candidate.rmse)
            .bind(attached.metrics.persistence.rmse)
            .execute(&mut *tx)
            .await?;
        }
        ModelVersionEvent::ManifestSigned(signed) => {
            sqlx::query(
                "UPDATE registry.model_versions
                 SET signed_manifest = $3, signer_key_id = $4, signed_at = $5
                 WHERE model = $1 AND version = $2",
            )
            .bind(model)
            .bind(version)
            .bind(serde_json::to_value(&signed.signed)?)
            .bind(&signed.signed.key_id)
            .bind(meta.occurred_at)
            .execute(&mut *tx)
            .await?;
        }
        ModelVersionEvent::StageChanged(change) => {
            sqlx::query(
                "INSERT INTO registry.stage_changes (event_id, stream_sequence, model, version,
                     from_stage, to_stage, actor, reason, changed_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(meta.id)
            .bind(int(sequence, "stream sequence")?)
            .bind(model)
            .bind(version)
            .bind(text(&change.from)?)
            .bind(text(&change.to)?)
            .bind(serde_json::to_value(&change.actor)?)
            .bind(&change.reason)
            .bind(change.at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE registry.model_versions SET stage = $3, stage_since = $4
                 WHERE model = $1 AND version = $2",
            )
            .bind(model)
            .bind(version)
            .bind(text(&change.to)?)
            .bind(change.at)
            .execute(&mut *tx)
            .await?;
        }
        ModelVersionEvent::GateFailed(failed) => {
            sqlx::query(
                "INSERT INTO registry.gate_failures (event_id, stream_sequence, model, version,
                     to_stage, gate, reason, actor, failed_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(meta.id)
            .bind(int(sequence, "stream sequence")?)
            .bind(model)
            .bind(version)
            .bind(text(&failed.to)?)
            .bind(text(&failed.gate)?)
            .bind(&failed.reason)
            .bind(serde_json::to_value(&meta.actor)?)
            .bind(meta.occurred_at)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(Applied::New)
}
