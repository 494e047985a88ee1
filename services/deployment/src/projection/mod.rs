//! The rollouts as operators list them, in Postgres (`deployment.rollouts`), written from the
//! rollout events. Every update is guarded by the rollout's stream sequence (`last_sequence <
//! $sequence`): events of one rollout arrive in stream order, so an event delivered again, or
//! replayed, changes nothing. [`rebuild`] empties the table and replays the stream.

pub mod queries;

use async_nats::jetstream::Context;
use edgeops_bus::{HistoryError, read_subject};
use edgeops_contracts::envelope::EventMeta;
use edgeops_contracts::{streams, subjects};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{AGGREGATE_KIND, RolloutEvent, Status};
use crate::eventstore::{decode, describe};

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("reading the stream: {0}")]
    History(#[from] HistoryError),
    #[error("{0:?} is not a rollout id")]
    BadAggregateId(String),
    #[error("encoding a column: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("a stored value does not fit: {0}")]
    Corrupt(String),
}

/// A status as stored (`running`, `rolled_back`, ...).
pub fn status_text(status: Status) -> String {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(text)) => text,
        _ => format!("{status:?}"),
    }
}

fn int(value: u64, what: &str) -> Result<i64, ProjectionError> {
    i64::try_from(value).map_err(|_| ProjectionError::Corrupt(format!("{what} {value}")))
}

fn int4(value: usize, what: &str) -> Result<i32, ProjectionError> {
    i32::try_from(value).map_err(|_| ProjectionError::Corrupt(format!("{what} {value}")))
}

/// Applies one event in its own transaction.
pub async fn apply_event(
    pool: &PgPool,
    sequence: u64,
    meta: &EventMeta,
    event: &RolloutEvent,
) -> Result<(), ProjectionError> {
    let mut conn = pool.acquire().await?;
    apply_in(&mut conn, sequence, meta, event).await
}

/// What a rebuild replayed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub applied: u64,
    /// Unreadable events (the live consumer dead-letters them too).
    pub skipped: u64,
}

/// Empties the table and replays every rollout event, in one transaction: the live consumer
/// waits on the table meanwhile, and its later updates are guarded by sequence.
pub async fn rebuild(pool: &PgPool, js: &Context) -> Result<RebuildReport, ProjectionError> {
    let mut tx = pool.begin().await?;
    sqlx::query("TRUNCATE deployment.rollouts")
        .execute(&mut *tx)
        .await?;
    let subject = subjects::all_aggregate_events(AGGREGATE_KIND);
    let mut report = RebuildReport::default();
    for (sequence, bytes) in read_subject(js, streams::EVENTS, &subject).await? {
        match decode(&bytes) {
            Ok((meta, event)) => {
                apply_in(&mut tx, sequence, &meta, &event).await?;
                report.applied += 1;
            }
            Err(err) => {
                tracing::warn!(sequence, error = %err, "rebuild skips an unreadable event");
                report.skipped += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(report)
}

async fn apply_in(
    conn: &mut PgConnection,
    sequence: u64,
    meta: &EventMeta,
    event: &RolloutEvent,
) -> Result<(), ProjectionError> {
    let id = Uuid::parse_str(&meta.aggregate_id)
        .map_err(|_| ProjectionError::BadAggregateId(meta.aggregate_id.clone()))?;
    let sequence = int(sequence, "stream sequence")?;
    let actor = serde_json::to_value(&meta.actor)?;
    if let RolloutEvent::Started(s) = event {
        let waves = s.strategy.cumulative_counts(s.targets.len()).len();
        sqlx::query(
            "INSERT INTO deployment.rollouts (rollout_id, model, version, status, wave, waves,
                 targets, switched, applied, failed, started_by, last_actor, last_event, reason,
                 started_at, updated_at, last_sequence)
             VALUES ($1, $2, $3, 'running', 0, $4, $5, 0, 0, 0, $6, $6, $7, NULL, $8, $8, $9)
             ON CONFLICT (rollout_id) DO NOTHING",
        )
        .bind(id)
        .bind(&s.model)
        .bind(int4(s.version as usize, "version")?)
        .bind(int4(waves, "waves")?)
        .bind(int4(s.targets.len(), "targets")?)
        .bind(&actor)
        .bind(&meta.event_type)
        .bind(meta.occurred_at)
        .bind(sequence)
        .execute(&mut *conn)
        .await?;
        return Ok(());
    }
    // Each event's change to the row: (status, wave, switched, applied, failed, reason);
    // `None` leaves the column as it is.
    let (status, wave, switched, applied, failed, reason): (
        Option<Status>,
        Option<usize>,
        usize,
        i32,
        i32,
        Option<String>,
    ) = match event {
        RolloutEvent::Started(_) => (None, None, 0, 0, 0, None),
        RolloutEvent::WaveAdvanced { wave, devices } => {
            (None, Some(*wave), devices.len(), 0, 0, None)
        }
        RolloutEvent::DeviceApplied { .. } => (None, None, 0, 1, 0, None),
        RolloutEvent::DeviceFailed { .. } => (None, None, 0, 0, 1, None),
        RolloutEvent::GatePassed { .. } | RolloutEvent::GateFailed { .. } => {
            (None, None, 0, 0, 0, Some(describe(event)))
        }
        RolloutEvent::RolledBack { reason, .. } => (
            Some(Status::RolledBack),
            None,
            0,
            0,
            0,
            Some(reason.clone()),
        ),
        RolloutEvent::Paused => (Some(Status::Paused), None, 0, 0, 0, None),
        RolloutEvent::Resumed => (Some(Status::Running), None, 0, 0, 0, None),
        RolloutEvent::Cancelled { reason } => {
            (Some(Status::Cancelled), None, 0, 0, 0, Some(reason.clone()))
        }
        RolloutEvent::Completed => (Some(Status::Completed), None, 0, 0, 0, None),
    };
    let updated = sqlx::query(
        "UPDATE deployment.rollouts SET
             status = COALESCE($3, status),
             wave = COALESCE($4, wave),
             switched = switched + $5,
             applied = applied + $6,
             failed = failed + $7,
             reason = COALESCE($8, reason),
             last_actor = $9, last_event = $10, updated_at = $11, last_sequence = $2
         WHERE rollout_id = $1 AND last_sequence < $2",
    )
    .bind(id)
    .bind(sequence)
    .bind(status.map(status_text))
    .bind(wave.map(|w| int4(w, "wave")).transpose()?)
    .bind(int4(switched, "switched")?)
    .bind(applied)
    .bind(failed)
    .bind(reason)
    .bind(&actor)
    .bind(&meta.event_type)
    .bind(meta.occurred_at)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() == 0 {
        tracing::debug!(rollout = %id, sequence, "event already projected (or before its start)");
    }
    Ok(())
}
