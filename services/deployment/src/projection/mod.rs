//! The rollouts as operators list them, in Postgres (`deployment.rollouts`), written from the
//! rollout events. Every update is guarded by the rollout's stream sequence (`last_sequence <
//! $sequence`): events of one rollout arrive in stream order, so an event delivered again, or
//! replayed, changes nothing. [`rebuild`] empties the table and replays the stream.

pub mod queries;

use async_nats::jetstream::Context;
use edgeops_eventsourcing::{Applied, Projection, Recorded, column};
pub use edgeops_eventsourcing::{ProjectionError, RebuildReport};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{Rollout, RolloutEvent};
use crate::rollouts::describe;
use edgeops_deployment_api::Status;

/// `deployment.rollouts`, one row per rollout, written from its events.
pub struct DeploymentProjection;

impl Projection for DeploymentProjection {
    type Aggregate = Rollout;
    const TABLES: &'static str = "deployment.rollouts";

    async fn apply(
        &self,
        conn: &mut PgConnection,
        recorded: &Recorded<RolloutEvent>,
    ) -> Result<Applied, ProjectionError> {
        apply_in(conn, recorded).await
    }
}

/// Empties the table and replays every rollout event, in one transaction: the live consumer
/// waits on the table meanwhile, and its later updates are guarded by sequence.
pub async fn rebuild(pool: &PgPool, js: &Context) -> Result<RebuildReport, ProjectionError> {
    edgeops_eventsourcing::rebuild(&DeploymentProjection, pool, js).await
}

/// A status as stored (`running`, `rolled_back`, ...).
pub fn status_text(status: Status) -> String {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(text)) => text,
        _ => format!("{status:?}"),
    }
}

async fn apply_in(
    conn: &mut PgConnection,
    recorded: &Recorded<RolloutEvent>,
) -> Result<Applied, ProjectionError> {
    let (meta, event) = (&recorded.meta, &recorded.event);
    let sequence: i64 = column(recorded.sequence, "stream sequence")?;
    let id = Uuid::parse_str(&meta.aggregate_id).map_err(|_| ProjectionError::BadAggregateId {
        id: meta.aggregate_id.clone(),
        expected: "rollout id",
    })?;
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
        .bind(column::<i32, _>(s.version, "version")?)
        .bind(column::<i32, _>(waves, "waves")?)
        .bind(column::<i32, _>(s.targets.len(), "targets")?)
        .bind(&actor)
        .bind(&meta.event_type)
        .bind(meta.occurred_at)
        .bind(sequence)
        .execute(&mut *conn)
        .await?;
        return Ok(Applied::New);
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
    .bind(wave.map(|w| column::<i32, _>(w, "wave")).transpose()?)
    .bind(column::<i32, _>(switched, "switched")?)
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
        return Ok(Applied::Duplicate);
    }
    Ok(Applied::New)
}
