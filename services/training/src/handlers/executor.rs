//! Executes requested runs, one at a time, from the durable consumer on training-run events.
//! The delivery stays unacknowledged (kept alive by progress acks) until the run's `completed` or
//! `failed` event is stored, so a killed process leaves the run to be resumed, never lost; the
//! run's own last event says whether there is anything left to do.
//!
//! | module        | holds                                                               |
//! |---------------|---------------------------------------------------------------------|
//! | this file     | the consumer loop: fetch, keep the delivery alive, acknowledge      |
//! | [`run`]       | a run's steps on the kit's event store: load, decide, append        |
//! | [`train`]     | rows in; a trained, compared and stored model out                   |
//! | [`registry`]  | the one call to the registry (which version is in production)       |
//! | [`events`]    | the run's `completed` event, built from what training produced      |
//! | [`crate::objects`] | the model object store (put and get)                           |

mod events;
mod registry;
mod run;
mod train;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::Context;
use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::message::{AckKind, Message};
use async_nats::jetstream::stream::ConsumerError;
use edgeops_bus::topology::TRAINING_RUNS_CONSUMER;
use edgeops_contracts::envelope::EventEnvelope;
use edgeops_contracts::{events::upcasters, streams};
use edgeops_ml::TrainConfig;
use edgeops_store::sqlx::PgPool;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::domain::run::{RunEvent, decode};

/// Where tests and the demo read a stored model from (it lives in [`crate::objects`]).
pub use crate::objects::read_object;

pub struct Executor {
    pub client: async_nats::Client,
    pub js: Context,
    pub pool: PgPool,
    pub train_config: Arc<TrainConfig>,
}

#[derive(Debug, thiserror::Error)]
#[error("the training-run consumer is not available: {0}")]
pub struct ExecutorError(#[source] ConsumerError);

impl Executor {
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ExecutorError> {
        let consumer: PullConsumer = self
            .js
            .get_consumer_from_stream(TRAINING_RUNS_CONSUMER, streams::EVENTS)
            .await
            .map_err(ExecutorError)?;
        loop {
            let fetched = tokio::select! {
                () = shutdown.cancelled() => break,
                batch = consumer.fetch().max_messages(1).expires(Duration::from_secs(2)).messages() => batch,
            };
            // The hub may be away (restart, link cut): wait and ask again, never give up.
            let mut batch = match fetched {
                Ok(batch) => batch,
                Err(err) => {
                    tracing::warn!(error = %err, "fetching run events failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            while let Some(message) = batch.next().await {
                match message {
                    Ok(message) => self.handle(&message).await,
                    Err(err) => tracing::warn!(error = %err, "receiving a run event failed"),
                }
            }
        }
        Ok(())
    }

    async fn handle(&self, message: &Message) {
        let requested = match EventEnvelope::decode(&message.payload, &upcasters())
            .map(|e| (e.meta.clone(), decode(&e.meta.event_type, e.data)))
        {
            Ok((meta, Some(Ok(RunEvent::Requested(requested))))) => Some((meta, requested)),
            Ok(_) => None,
            Err(err) => {
                tracing::warn!(error = %err, subject = %message.subject, "unreadable run event skipped");
                None
            }
        };
        if let Some((meta, requested)) = requested {
            let keep_alive = keep_alive(message);
            self.execute(&meta, requested).await;
            keep_alive.cancel();
        }
        if let Err(err) = message.ack().await {
            tracing::warn!(error = %err, "acknowledging a run event failed; it will be redelivered");
        }
    }
}

/// Tells the server every 15 s that the run is still being worked on (ack wait is 60 s).
fn keep_alive(message: &Message) -> CancellationToken {
    let token = CancellationToken::new();
    let stop = token.clone();
    let message = message.clone();
    tokio::spawn(async move {
        if message.reply.is_none() {
            return;
        }
        let mut every = tokio::time::interval(Duration::from_secs(15));
        every.tick().await;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = every.tick() => {
                    if let Err(err) = message.ack_with(AckKind::Progress).await {
                        tracing::debug!(error = %err, "progress ack failed");
                    }
                }
            }
        }
    });
    token
}
