//! Read models in Postgres, written from an aggregate's events. A projection declares its
//! tables and how one event changes them; the kit consumes the events in stream order (one
//! transaction per event, so a failure retries that event and everything after it), passes
//! over a second copy of an event id within a batch, dead-letters what cannot be read, and
//! [`rebuild`]s by emptying the tables and replaying the stream in one transaction.
//!
//! Each projection's `apply` stays idempotent across deliveries (a ledger of event ids, or a
//! guard on the stream sequence): a delivery whose ack was lost comes again in a later batch.

use std::collections::HashSet;
use std::fmt::Display;
use std::future::Future;
use std::sync::Mutex;

use async_nats::jetstream::{Context, Message};
use edgeops_bus::{HistoryError, Outcome, read_subject};
use edgeops_contracts::{RejectCode, Rejection, streams, subjects};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::aggregate::{Aggregate, DecodeError, Recorded, decode};

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("reading the stream: {0}")]
    History(#[from] HistoryError),
    /// The event names an instance the projection cannot key its rows by: never retried.
    #[error("{id:?} is not a {expected}")]
    BadAggregateId { id: String, expected: &'static str },
    #[error("encoding a column: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("a stored value does not fit: {0}")]
    Corrupt(String),
}

/// `value` as the column's integer type, or why it does not fit.
pub fn column<T: TryFrom<U>, U: Display + Copy>(
    value: U,
    what: &str,
) -> Result<T, ProjectionError> {
    T::try_from(value).map_err(|_| ProjectionError::Corrupt(format!("{what} {value}")))
}

/// What applying one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    New,
    /// Applied before (redelivery, replay): nothing changed.
    Duplicate,
    /// It belongs to an instance the projection has no row for (only a hand-written stream
    /// has such events): ignored, as the aggregate itself ignores it.
    Orphan,
}

/// A read model of aggregate `Aggregate`.
pub trait Projection: Send + Sync + 'static {
    type Aggregate: Aggregate;
    /// What a rebuild empties, as `TRUNCATE` lists it (`registry.models, registry.versions`).
    const TABLES: &'static str;

    /// Applies one event inside the caller's transaction.
    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        recorded: &'a Recorded<<Self::Aggregate as Aggregate>::Event>,
    ) -> impl Future<Output = Result<Applied, ProjectionError>> + Send + 'a;
}

/// Applies one event in its own transaction.
pub async fn apply_event<P: Projection>(
    projection: &P,
    pool: &PgPool,
    recorded: &Recorded<<P::Aggregate as Aggregate>::Event>,
) -> Result<Applied, ProjectionError> {
    let mut tx = pool.begin().await?;
    let applied = projection.apply(&mut tx, recorded).await?;
    tx.commit().await?;
    Ok(applied)
}

/// What a rebuild replayed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub applied: u64,
    /// Events the live consumer dead-letters too (unreadable), so they are left out alike.
    pub skipped: u64,
}

/// Empties the projection's tables and replays every event of its aggregate, in one
/// transaction. The stream is read only after `TRUNCATE` holds the tables: the live consumer
/// then waits for this transaction, so every event it applied before is in what is read here,
/// and what it applies after finds its effect already there.
pub async fn rebuild<P: Projection>(
    projection: &P,
    pool: &PgPool,
    js: &Context,
) -> Result<RebuildReport, ProjectionError> {
    let mut tx = pool.begin().await?;
    sqlx::query(&format!("TRUNCATE {}", P::TABLES))
        .execute(&mut *tx)
        .await?;
    let subject = subjects::all_aggregate_events(P::Aggregate::KIND);
    let mut report = RebuildReport::default();
    for (sequence, bytes) in read_subject(js, streams::EVENTS, &subject).await? {
        match decode::<P::Aggregate>(&bytes) {
            Ok((meta, event)) => {
                let recorded = Recorded {
                    sequence,
                    meta,
                    event,
                };
                projection.apply(&mut tx, &recorded).await?;
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

/// Event ids met in one batch: a second copy of an event (published again after the stream's
/// de-duplication window) is acknowledged without being applied twice. Kept per batch only:
/// an event retried in one batch must be applied when it comes again.
#[derive(Debug, Default)]
pub struct SeenInBatch(Mutex<HashSet<Uuid>>);

impl SeenInBatch {
    /// Whether `id` is met for the first time.
    pub fn first_time(&self, id: Uuid) -> bool {
        self.0
            .lock()
            .map(|mut seen| seen.insert(id))
            .unwrap_or(true)
    }
}

/// The consumer's handler: give it to an `edgeops_bus::ConsumerRunner` on a durable consumer
/// filtered to the aggregate's events, with one message in flight (stream order).
pub struct ProjectionConsumer<P> {
    pub pool: PgPool,
    pub projection: P,
}

impl<P: Projection> edgeops_bus::BatchHandler for ProjectionConsumer<P> {
    async fn handle(&self, batch: &[Message]) -> Vec<Outcome> {
        let seen = SeenInBatch::default();
        edgeops_bus::consumer::in_stream_order(batch, |message| {
            let decoded = decode::<P::Aggregate>(&message.payload);
            let first = match &decoded {
                Ok((meta, _)) => seen.first_time(meta.id),
                Err(_) => true,
            };
            self.handle_one(message, decoded, first)
        })
        .await
    }
}

impl<P: Projection> ProjectionConsumer<P> {
    async fn handle_one(
        &self,
        message: &Message,
        decoded: Result<
            (
                edgeops_contracts::EventMeta,
                <P::Aggregate as Aggregate>::Event,
            ),
            DecodeError,
        >,
        first_time: bool,
    ) -> Outcome {
        let reject = |code, detail: String| Outcome::Reject(Rejection::new(code, detail));
        let (meta, event) = match decoded {
            Ok(decoded) => decoded,
            Err(err) if err.is_from_the_future() => {
                return reject(RejectCode::UnsupportedVersion, err.to_string());
            }
            Err(err) => return reject(RejectCode::InvalidJson, err.to_string()),
        };
        if !first_time {
            tracing::debug!(event = %meta.id, "second copy of an event in the batch");
            return Outcome::Ack;
        }
        let sequence = message
            .info()
            .map(|i| i.stream_sequence)
            .unwrap_or_default();
        let recorded = Recorded {
            sequence,
            meta,
            event,
        };
        match apply_event(&self.projection, &self.pool, &recorded).await {
            Ok(Applied::Duplicate) => {
                tracing::debug!(event = %recorded.meta.id, "event already in the projection");
                Outcome::Ack
            }
            Ok(_) => Outcome::Ack,
            Err(err @ ProjectionError::BadAggregateId { .. }) => {
                reject(RejectCode::InvalidSubject, err.to_string())
            }
            Err(err) => {
                tracing::warn!(error = %err, sequence, "projecting an event failed; will retry");
                Outcome::Retry {
                    reason: err.to_string(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_copy_in_a_batch_is_told_apart() {
        let seen = SeenInBatch::default();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(seen.first_time(a));
        assert!(seen.first_time(b));
        assert!(!seen.first_time(a));
    }

    #[test]
    fn values_that_do_not_fit_their_column_are_named() {
        assert_eq!(column::<i32, u64>(7, "wave").unwrap(), 7);
        let err = column::<i32, u64>(u64::MAX, "wave").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("a stored value does not fit: wave {}", u64::MAX)
        );
    }
}
