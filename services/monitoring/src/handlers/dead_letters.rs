//! The hub's dead letters, counted per reason: a jump in one reason (a misconfigured fleet, a
//! sensor firmware sending bad readings) is a data-quality incident. Each dead letter counts
//! once (by its stream sequence); the verdict is also renewed by the site-link watch, so a
//! jump closes once its hour has passed.

use async_nats::jetstream::Message;
use chrono::{DateTime, Utc};
use edgeops_bus::{BatchHandler, Outcome};
use edgeops_contracts::monitoring::IncidentKind;
use edgeops_contracts::subjects;
use sqlx::PgPool;

use super::incidents::Incidents;
use crate::domain::judge::{self, Levels};
use crate::domain::{Observation, Scope};
use crate::store;

pub struct DeadLettersHandler {
    pub pool: PgPool,
    pub incidents: Incidents,
    pub levels: Levels,
}

impl BatchHandler for DeadLettersHandler {
    async fn handle(&self, batch: &[Message]) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(batch.len());
        for message in batch {
            outcomes.push(match self.count(message).await {
                Ok(()) => Outcome::Ack,
                Err(err) => Outcome::Retry {
                    reason: format!("counting a dead letter: {err:#}"),
                },
            });
        }
        outcomes
    }
}

impl DeadLettersHandler {
    async fn count(&self, message: &Message) -> anyhow::Result<()> {
        // Never refused: a dead letter of a dead letter would only feed itself.
        let Some(reason) = subjects::dead_letter_reason(message.subject.as_str()) else {
            return Ok(());
        };
        let info = message.info().map_err(|e| anyhow::anyhow!("{e}"))?;
        let at = DateTime::<Utc>::from_timestamp(
            info.published.unix_timestamp(),
            info.published.nanosecond(),
        )
        .unwrap_or_else(Utc::now);
        store::count_dead_letter(&self.pool, info.stream_sequence, reason, at).await?;
        judge_reason(
            &self.pool,
            &self.incidents,
            &self.levels,
            reason,
            Utc::now(),
        )
        .await
    }
}

/// Judges one reason's last hour (ending `now`, the hub's clock).
pub async fn judge_reason(
    pool: &PgPool,
    incidents: &Incidents,
    levels: &Levels,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let (this_hour, mean) = store::dead_letter_rates(pool, reason, now).await?;
    let span = (now - chrono::Duration::hours(1), now);
    let verdict = judge::dead_letter_jump(this_hour, mean, span, levels);
    incidents
        .observe(Observation {
            kind: IncidentKind::DataQuality,
            scope: Scope::DeadLetters {
                reason: reason.to_owned(),
            },
            at: now,
            verdict,
            cool_down: levels.cool_down,
            retrain: None,
        })
        .await
        .map(drop)
}
