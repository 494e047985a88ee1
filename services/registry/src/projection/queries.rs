//! Reading the projection for the query endpoints. "Current prod" is answered here the way
//! the domain answers it (`domain::current_prod`): per scope, the version that entered prod
//! last, then the highest number.

use chrono::{DateTime, Utc};
use edgeops_artifacts::{ArtifactRef, FeatureSpecRef, Lineage, SignedManifest};
use edgeops_contracts::training::StoredArtifact;
use edgeops_registry_api::{
    GateFailureRecord, ModelSummary, ProdVersion, Serving, StageChangeRecord, VersionDetail,
    VersionSummary,
};
use serde::de::DeserializeOwned;
use sqlx::PgPool;
use uuid::Uuid;

use super::ProjectionError;
use edgeops_registry_api::{Holdout, HoldoutMetrics, ModelName, Scope};

const CURRENT_PROD: &str = "SELECT DISTINCT ON (model, scope) model, scope, version
     FROM registry.model_versions WHERE stage = 'prod'
     ORDER BY model, scope, stage_since DESC NULLS LAST, version DESC";

fn parse<T: DeserializeOwned>(text: &str) -> Result<T, ProjectionError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|e| ProjectionError::Corrupt(format!("{text:?}: {e}")))
}

fn json<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ProjectionError> {
    serde_json::from_value(value).map_err(|e| ProjectionError::Corrupt(e.to_string()))
}

fn unsigned<T: TryFrom<i64>>(value: impl Into<i64>, what: &str) -> Result<T, ProjectionError> {
    let value = value.into();
    T::try_from(value).map_err(|_| ProjectionError::Corrupt(format!("{what} {value}")))
}

pub async fn models(pool: &PgPool) -> Result<Vec<ModelSummary>, ProjectionError> {
    let rows: Vec<(String, DateTime<Utc>, i64, i32)> = sqlx::query_as(
        "SELECT m.model, m.first_registered_at, count(v.version), max(v.version)
         FROM registry.models m JOIN registry.model_versions v USING (model)
         GROUP BY m.model, m.first_registered_at ORDER BY m.model",
    )
    .fetch_all(pool)
    .await?;
    let serving: Vec<(String, String, i32)> = sqlx::query_as(CURRENT_PROD).fetch_all(pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for (model, first_registered_at, versions, latest) in rows {
        let mut summary = ModelSummary {
            versions: unsigned(versions, "version count")?,
            latest_version: unsigned(latest, "version")?,
            first_registered_at,
            serving: Vec::new(),
            model,
        };
        for (_, scope, version) in serving.iter().filter(|(m, ..)| *m == summary.model) {
            summary.serving.push(Serving {
                scope: scope.clone(),
                version: unsigned(*version, "version")?,
            });
        }
        out.push(summary);
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    model: String,
    version: i32,
    scope: String,
    stage: String,
    stage_since: Option<DateTime<Utc>>,
    registered_at: DateTime<Utc>,
    candidate_rmse: Option<f64>,
    persistence_rmse: Option<f64>,
    signed: bool,
    serving: bool,
    artifact_object: String,
    artifact_sha256: String,
    artifact_size_bytes: i64,
    feature_spec: serde_json::Value,
    horizon_bins: i32,
    holdout_fingerprint: String,
    holdout_rows: i64,
    training_run: Uuid,
    dataset_fingerprint: String,
    code_version: String,
    metrics: Option<serde_json::Value>,
    signer_key_id: Option<String>,
}

const VERSION_COLUMNS: &str = "SELECT v.*, v.signed_manifest IS NOT NULL AS signed,
        EXISTS (SELECT 1 FROM current_prod c
                WHERE c.model = v.model AND c.scope = v.scope AND c.version = v.version) AS serving
     FROM registry.model_versions v";

impl VersionRow {
    fn summary(&self) -> Result<VersionSummary, ProjectionError> {
        Ok(VersionSummary {
            model: self.model.clone(),
            version: unsigned(self.version, "version")?,
            scope: self.scope.clone(),
            stage: parse(&self.stage)?,
            stage_since: self.stage_since,
            registered_at: self.registered_at,
            candidate_rmse: self.candidate_rmse,
            persistence_rmse: self.persistence_rmse,
            signed: self.signed,
            serving: self.serving,
        })
    }
}

/// A model's versions, newest first; `None` when the model is unknown.
pub async fn versions(
    pool: &PgPool,
    model: &ModelName,
) -> Result<Option<Vec<VersionSummary>>, ProjectionError> {
    let rows: Vec<VersionRow> = sqlx::query_as(&format!(
        "WITH current_prod AS ({CURRENT_PROD}) {VERSION_COLUMNS}
         WHERE v.model = $1 ORDER BY v.version DESC"
    ))
    .bind(model.as_str())
    .fetch_all(pool)
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    rows.iter()
        .map(VersionRow::summary)
        .collect::<Result<_, _>>()
        .map(Some)
}

/// Everything about one version; `None` when it is unknown.
pub async fn version(
    pool: &PgPool,
    model: &ModelName,
    version: u32,
) -> Result<Option<VersionDetail>, ProjectionError> {
    let number = i32::try_from(version).unwrap_or(i32::MAX);
    // One snapshot for the three reads: the projection applies a stage change (the version's
    // stage and its history row) in one transaction, and an answer must not mix before and after.
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let row: Option<VersionRow> = sqlx::query_as(&format!(
        "WITH current_prod AS ({CURRENT_PROD}) {VERSION_COLUMNS}
         WHERE v.model = $1 AND v.version = $2"
    ))
    .bind(model.as_str())
    .bind(number)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let changes: Vec<(String, String, serde_json::Value, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT from_stage, to_stage, actor, reason, changed_at FROM registry.stage_changes
             WHERE model = $1 AND version = $2 ORDER BY stream_sequence",
    )
    .bind(model.as_str())
    .bind(number)
    .fetch_all(&mut *tx)
    .await?;
    let failures: Vec<(String, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT to_stage, gate, reason, failed_at FROM registry.gate_failures
         WHERE model = $1 AND version = $2 ORDER BY stream_sequence",
    )
    .bind(model.as_str())
    .bind(number)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut stage_history = Vec::with_capacity(changes.len());
    for (from, to, actor, reason, at) in changes {
        stage_history.push(StageChangeRecord {
            from: parse(&from)?,
            to: parse(&to)?,
            actor: json(actor)?,
            reason,
            at,
        });
    }
    let mut gate_failures = Vec::with_capacity(failures.len());
    for (to, gate, reason, at) in failures {
        gate_failures.push(GateFailureRecord {
            to: parse(&to)?,
            gate: parse(&gate)?,
            reason,
            at,
        });
    }
    Ok(Some(VersionDetail {
        summary: row.summary()?,
        artifact: ArtifactRef {
            object_name: row.artifact_object,
            sha256: row.artifact_sha256,
            size_bytes: unsigned(row.artifact_size_bytes, "artifact size")?,
        },
        feature_spec: json::<FeatureSpecRef>(row.feature_spec)?,
        horizon_bins: unsigned(row.horizon_bins, "horizon_bins")?,
        holdout: Holdout {
            fingerprint: row.holdout_fingerprint,
            rows: unsigned(row.holdout_rows, "holdout rows")?,
        },
        metrics: row.metrics.map(json::<HoldoutMetrics>).transpose()?,
        lineage: Lineage {
            training_run: row.training_run,
            dataset_fingerprint: row.dataset_fingerprint,
            code_version: row.code_version,
        },
        signer_key_id: row.signer_key_id,
        stage_history,
        gate_failures,
    }))
}

/// The version serving `scope`, as training's `ProdReply` names it.
pub async fn prod(
    pool: &PgPool,
    model: &ModelName,
    scope: &Scope,
) -> Result<Option<ProdVersion>, ProjectionError> {
    let row: Option<(i32, String, String, i64)> = sqlx::query_as(
        "SELECT version, artifact_object, artifact_sha256, artifact_size_bytes
         FROM registry.model_versions
         WHERE model = $1 AND scope = $2 AND stage = 'prod'
         ORDER BY stage_since DESC NULLS LAST, version DESC LIMIT 1",
    )
    .bind(model.as_str())
    .bind(scope.to_string())
    .fetch_optional(pool)
    .await?;
    let Some((version, object, sha256, size_bytes)) = row else {
        return Ok(None);
    };
    Ok(Some(ProdVersion {
        model: model.to_string(),
        version: unsigned(version, "version")?,
        artifact: StoredArtifact {
            bucket: edgeops_contracts::streams::MODELS_BUCKET.to_owned(),
            artifact: ArtifactRef {
                object_name: object,
                sha256,
                size_bytes: unsigned(size_bytes, "artifact size")?,
            },
        },
    }))
}

/// A version's signed manifest: `None` when the version is unknown, `Some(None)` while it is
/// registered but not signed yet.
pub async fn manifest(
    pool: &PgPool,
    model: &ModelName,
    version: u32,
) -> Result<Option<Option<SignedManifest>>, ProjectionError> {
    let row: Option<(Option<serde_json::Value>,)> = sqlx::query_as(
        "SELECT signed_manifest FROM registry.model_versions WHERE model = $1 AND version = $2",
    )
    .bind(model.as_str())
    .bind(i32::try_from(version).unwrap_or(i32::MAX))
    .fetch_optional(pool)
    .await?;
    row.map(|(signed,)| signed.map(json::<SignedManifest>).transpose())
        .transpose()
}

/// Whether the projection has applied the event at stream `sequence` (it applies in stream
/// order, so any later event applied means this one was too).
pub async fn caught_up(pool: &PgPool, sequence: u64) -> Result<bool, ProjectionError> {
    let sequence = i64::try_from(sequence).unwrap_or(i64::MAX);
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM registry.applied_events WHERE stream_sequence >= $1)",
    )
    .bind(sequence)
    .fetch_one(pool)
    .await?)
}
