//! Reading the projection: the `list` endpoint, and which rollouts the evaluator looks at.

use chrono::{DateTime, Utc};
use edgeops_contracts::Actor;
use sqlx::PgPool;
use uuid::Uuid;

use super::ProjectionError;
use edgeops_deployment_api::Status;
use edgeops_deployment_api::{ListRequest, RolloutSummary};

#[derive(sqlx::FromRow)]
struct Row {
    rollout_id: Uuid,
    model: String,
    version: i32,
    status: String,
    wave: i32,
    waves: i32,
    targets: i32,
    switched: i32,
    applied: i32,
    failed: i32,
    started_by: serde_json::Value,
    last_actor: serde_json::Value,
    last_event: String,
    reason: Option<String>,
    started_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn unsigned(value: i32, what: &str) -> Result<u32, ProjectionError> {
    u32::try_from(value).map_err(|_| ProjectionError::Corrupt(format!("{what} {value}")))
}

fn summary(row: Row) -> Result<RolloutSummary, ProjectionError> {
    let corrupt = |e: serde_json::Error| ProjectionError::Corrupt(e.to_string());
    let status: Status =
        serde_json::from_value(serde_json::Value::String(row.status)).map_err(corrupt)?;
    let started_by: Actor = serde_json::from_value(row.started_by).map_err(corrupt)?;
    let last_actor: Actor = serde_json::from_value(row.last_actor).map_err(corrupt)?;
    Ok(RolloutSummary {
        rollout: row.rollout_id,
        model: row.model,
        version: unsigned(row.version, "version")?,
        status,
        wave: unsigned(row.wave, "wave")?,
        waves: unsigned(row.waves, "waves")?,
        targets: unsigned(row.targets, "targets")?,
        switched: unsigned(row.switched, "switched")?,
        applied: unsigned(row.applied, "applied")?,
        failed: unsigned(row.failed, "failed")?,
        started_by,
        last_actor,
        last_event: row.last_event,
        reason: row.reason,
        started_at: row.started_at,
        updated_at: row.updated_at,
    })
}

/// Rollouts, newest first.
pub async fn list(
    pool: &PgPool,
    request: &ListRequest,
) -> Result<Vec<RolloutSummary>, ProjectionError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT rollout_id, model, version, status, wave, waves, targets, switched, applied,
                failed, started_by, last_actor, last_event, reason, started_at, updated_at
         FROM deployment.rollouts
         WHERE NOT $1 OR status IN ('running', 'paused')
         ORDER BY started_at DESC, rollout_id DESC
         LIMIT $2",
    )
    .bind(request.active)
    .bind(i64::from(request.limit.unwrap_or(50).clamp(1, 1_000)))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(summary).collect()
}

/// Running and paused rollouts.
pub async fn active_ids(pool: &PgPool) -> Result<Vec<Uuid>, ProjectionError> {
    Ok(sqlx::query_scalar(
        "SELECT rollout_id FROM deployment.rollouts WHERE status IN ('running', 'paused')",
    )
    .fetch_all(pool)
    .await?)
}

/// Rollouts rolled back since `since`: their writes are checked again after a restart.
pub async fn rolled_back_since(
    pool: &PgPool,
    since: DateTime<Utc>,
) -> Result<Vec<Uuid>, ProjectionError> {
    Ok(sqlx::query_scalar(
        "SELECT rollout_id FROM deployment.rollouts
         WHERE status = 'rolled_back' AND updated_at >= $1",
    )
    .bind(since)
    .fetch_all(pool)
    .await?)
}
