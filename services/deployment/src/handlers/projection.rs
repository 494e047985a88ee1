//! The batch handler for `edgeops.events.rollout.>`: applies each event to the Postgres
//! projection, in stream order (the consumer keeps one event in flight), idempotently.

use async_nats::jetstream::Message;
use edgeops_bus::Outcome;
use edgeops_contracts::upcast::UpcastError;
use edgeops_contracts::{RejectCode, Rejection};
use sqlx::PgPool;

use crate::eventstore::{DecodeError, decode};
use crate::projection::{ProjectionError, apply_event};

pub struct ProjectionHandler {
    pub pool: PgPool,
}

impl edgeops_bus::BatchHandler for ProjectionHandler {
    async fn handle(&self, batch: &[Message]) -> Vec<Outcome> {
        edgeops_bus::consumer::in_stream_order(batch, |message| self.handle_one(message)).await
    }
}

impl ProjectionHandler {
    async fn handle_one(&self, message: &Message) -> Outcome {
        let reject = |code, detail: String| Outcome::Reject(Rejection::new(code, detail));
        let (meta, event) = match decode(&message.payload) {
            Ok(decoded) => decoded,
            Err(DecodeError::Envelope(err @ UpcastError::FromTheFuture { .. })) => {
                return reject(RejectCode::UnsupportedVersion, err.to_string());
            }
            Err(err) => return reject(RejectCode::InvalidJson, err.to_string()),
        };
        let sequence = message
            .info()
            .map(|i| i.stream_sequence)
            .unwrap_or_default();
        match apply_event(&self.pool, sequence, &meta, &event).await {
            Ok(()) => Outcome::Ack,
            Err(err @ ProjectionError::BadAggregateId(_)) => {
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
