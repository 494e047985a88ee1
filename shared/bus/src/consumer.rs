//! The consumer runner: pulls batches from a durable pull consumer with a bounded number of
//! workers, hands each batch to a handler, and settles every message with one decision:
//! ack, retry later (delayed nak; dead-letter once out of deliveries), or reject (dead-letter
//! with the reason, then terminate). On shutdown it stops pulling, finishes and settles the
//! batches in hand, and flushes, so nothing it acknowledged is lost and nothing is left half done.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::{AckKind, Context, Message};
use edgeops_contracts::{RejectCode, Rejection};
use futures::StreamExt;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::dead_letter::{DeadLetterSink, Refused};

/// How long past its expiry a pull may take to end before it is abandoned.
const PULL_GRACE: Duration = Duration::from_secs(2);

/// What to do with one message.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Done; never deliver again.
    Ack,
    /// A transient failure (database down): deliver again after the runner's retry delay.
    Retry { reason: String },
    /// The message itself is bad: dead-letter it with the reason and never deliver again.
    Reject(Rejection),
    /// Some readings of a packed message are bad (the rest were handled): dead-letter each of
    /// them alone, with its position in the pack, then never deliver the message again.
    RejectReadings(Vec<RefusedReading>),
}

/// One refused reading of a packed message: its position, its own JSON, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RefusedReading {
    pub pack_index: usize,
    pub payload: Vec<u8>,
    pub rejection: Rejection,
}

/// Processes one batch. Returns one outcome per message, in order.
pub trait BatchHandler: Send + Sync + 'static {
    fn handle(&self, batch: &[Message]) -> impl Future<Output = Vec<Outcome>> + Send;
}

/// Handles a batch one message at a time, in stream order, for handlers whose messages must
/// apply in order (projections): once one is to be retried, every later one is retried too, so
/// nothing overtakes it.
pub async fn in_stream_order<'m, F, Fut>(batch: &'m [Message], mut handle_one: F) -> Vec<Outcome>
where
    F: FnMut(&'m Message) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(batch.len());
    for message in batch {
        let outcome = match outcomes.last() {
            Some(Outcome::Retry { reason }) => Outcome::Retry {
                reason: format!("an earlier event is being retried: {reason}"),
            },
            _ => handle_one(message).await,
        };
        outcomes.push(outcome);
    }
    outcomes
}

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    pub stream: String,
    pub durable: String,
    pub batch_size: usize,
    /// How long a worker waits to fill a batch before handling what it has.
    pub batch_linger: Duration,
    /// Workers pulling and handling batches concurrently.
    pub concurrency: usize,
    /// Deliveries after which a message that still asks for retry is dead-lettered.
    pub max_deliver: i64,
    pub retry_delay: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("consumer {stream}/{durable} is not available: {source}")]
    Consumer {
        stream: String,
        durable: String,
        #[source]
        source: async_nats::Error,
    },
    #[error("worker failed: {0}")]
    Worker(String),
}

pub struct ConsumerRunner<H> {
    js: Context,
    config: RunnerConfig,
    handler: Arc<H>,
    dead_letters: DeadLetterSink,
}

impl<H: BatchHandler> ConsumerRunner<H> {
    pub fn new(js: Context, config: RunnerConfig, handler: H) -> Self {
        let dead_letters = DeadLetterSink::new(js.clone(), config.durable.clone());
        Self {
            js,
            config,
            handler: Arc::new(handler),
            dead_letters,
        }
    }

    /// The durable consumer it pulls from.
    pub fn durable(&self) -> &str {
        &self.config.durable
    }

    /// Runs until `shutdown` resolves, then drains the batches in hand and returns.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), RunnerError> {
        let consumer = self.consumer().await?;
        let mut workers = JoinSet::new();
        for worker in 0..self.config.concurrency.max(1) {
            let context = WorkerContext {
                consumer: consumer.clone(),
                config: self.config.clone(),
                handler: self.handler.clone(),
                dead_letters: self.dead_letters.clone(),
                shutdown: shutdown.clone(),
            };
            workers.spawn(async move { context.run(worker).await });
        }
        let mut failure = None;
        while let Some(joined) = workers.join_next().await {
            if let Err(err) = joined {
                tracing::error!(error = %err, "consumer worker panicked");
                failure = Some(RunnerError::Worker(err.to_string()));
                shutdown.cancel();
            }
        }
        // Acks are fire-and-forget publishes: make sure they left before we report done.
        if let Err(err) = self.js.client().flush().await {
            tracing::warn!(error = %err, "flushing acks on shutdown");
        }
        failure.map_or(Ok(()), Err)
    }

    async fn consumer(&self) -> Result<PullConsumer, RunnerError> {
        let failed = |source: async_nats::Error| RunnerError::Consumer {
            stream: self.config.stream.clone(),
            durable: self.config.durable.clone(),
            source,
        };
        let stream = self
            .js
            .get_stream(&self.config.stream)
            .await
            .map_err(|e| failed(e.into()))?;
        stream
            .get_consumer(&self.config.durable)
            .await
            .map_err(failed)
    }
}

struct WorkerContext<H> {
    consumer: PullConsumer,
    config: RunnerConfig,
    handler: Arc<H>,
    dead_letters: DeadLetterSink,
    shutdown: CancellationToken,
}

impl<H: BatchHandler> WorkerContext<H> {
    async fn run(self, worker: usize) {
        let mut backoff = Duration::from_millis(100);
        while !self.shutdown.is_cancelled() {
            match self.next_batch().await {
                Ok(batch) if batch.is_empty() => {}
                Ok(batch) => {
                    tracing::debug!(
                        worker,
                        messages = batch.len(),
                        first = batch
                            .first()
                            .and_then(|m| m.info().ok())
                            .map(|i| i.stream_sequence),
                        "pulled a batch"
                    );
                    backoff = Duration::from_millis(100);
                    let outcomes = self.handler.handle(&batch).await;
                    self.settle(batch, outcomes).await;
                }
                Err(err) => {
                    tracing::warn!(worker, error = %err, ?backoff, "pulling a batch failed; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = self.shutdown.cancelled() => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        tracing::debug!(worker, "consumer worker stopped");
    }

    /// Pulls up to `batch_size` messages, waiting at most `batch_linger`. The pull is not cut
    /// short by a shutdown: what the server already delivered must be handled and acked, or it
    /// would sit un-acked until `ack_wait`; the pull ends by itself within `batch_linger`.
    async fn next_batch(&self) -> Result<Vec<Message>, async_nats::Error> {
        let mut pulled = self
            .consumer
            .batch()
            .max_messages(self.config.batch_size)
            .expires(self.config.batch_linger)
            .messages()
            .await?;
        let mut batch = Vec::with_capacity(self.config.batch_size);
        // A pull whose request died with a lost connection would never end: bound it. What the
        // server delivers to an abandoned pull is redelivered after ack_wait.
        let deadline = tokio::time::sleep(self.config.batch_linger * 2 + PULL_GRACE);
        tokio::pin!(deadline);
        loop {
            let next = tokio::select! {
                next = pulled.next() => next,
                () = &mut deadline => {
                    tracing::warn!(received = batch.len(), "pull request got no end from the server; abandoning it");
                    break;
                }
            };
            match next {
                None => break,
                Some(Ok(message)) => batch.push(message),
                Some(Err(err)) if batch.is_empty() => return Err(err),
                Some(Err(err)) => {
                    tracing::debug!(error = %err, "pull ended early");
                    break;
                }
            }
        }
        Ok(batch)
    }

    async fn settle(&self, batch: Vec<Message>, outcomes: Vec<Outcome>) {
        if outcomes.len() != batch.len() {
            tracing::error!(
                messages = batch.len(),
                outcomes = outcomes.len(),
                "handler returned the wrong number of outcomes; retrying the batch"
            );
        }
        let mut outcomes = outcomes.into_iter();
        for message in batch {
            let outcome = outcomes.next().unwrap_or(Outcome::Retry {
                reason: "handler gave no outcome".into(),
            });
            self.settle_one(&message, outcome).await;
        }
    }

    async fn settle_one(&self, message: &Message, outcome: Outcome) {
        let delivered = message.info().map(|i| i.delivered).unwrap_or(1);
        let result = match outcome {
            Outcome::Ack => message.ack().await,
            Outcome::Retry { reason } if delivered >= self.config.max_deliver => {
                let rejection = Rejection::new(
                    RejectCode::MaxDeliveriesExceeded,
                    format!("gave up after {delivered} deliveries; last error: {reason}"),
                );
                self.dead_letter(message, delivered, &rejection).await
            }
            Outcome::Retry { reason } => {
                tracing::debug!(delivered, reason, "retrying message later");
                message
                    .ack_with(AckKind::Nak(Some(self.config.retry_delay)))
                    .await
            }
            Outcome::Reject(rejection) => self.dead_letter(message, delivered, &rejection).await,
            Outcome::RejectReadings(readings) => {
                self.dead_letter_readings(message, delivered, &readings)
                    .await
            }
        };
        if let Err(err) = result {
            // The server will redeliver after ack_wait; handlers are idempotent.
            tracing::warn!(error = %err, "settling a message failed; it will be redelivered");
        }
    }

    /// Dead-letters, then terminates. If the dead letter cannot be stored, the message is
    /// nak'ed instead: a refusal must never drop data.
    async fn dead_letter(
        &self,
        message: &Message,
        delivered: i64,
        rejection: &Rejection,
    ) -> Result<(), async_nats::Error> {
        let (stream, stream_sequence) = message
            .info()
            .map(|i| (i.stream.to_owned(), i.stream_sequence))
            .unwrap_or_default();
        let refused = Refused {
            stream: &stream,
            stream_sequence,
            subject: message.subject.as_str(),
            deliveries: delivered,
            payload: &message.payload,
            pack_index: None,
        };
        let stored = self.dead_letters.send(&refused, rejection).await;
        self.terminate_once_stored(message, stored).await
    }

    /// Dead-letters each refused reading of a pack alone, then terminates the message. If one
    /// cannot be stored, the message is nak'ed: the next delivery judges it again (its good
    /// readings are written idempotently, and a dead letter stored twice is a copy, not a loss).
    async fn dead_letter_readings(
        &self,
        message: &Message,
        delivered: i64,
        readings: &[RefusedReading],
    ) -> Result<(), async_nats::Error> {
        let (stream, stream_sequence) = message
            .info()
            .map(|i| (i.stream.to_owned(), i.stream_sequence))
            .unwrap_or_default();
        let mut stored = Ok(());
        for reading in readings {
            let refused = Refused {
                stream: &stream,
                stream_sequence,
                subject: message.subject.as_str(),
                deliveries: delivered,
                payload: &reading.payload,
                pack_index: Some(reading.pack_index),
            };
            stored = self.dead_letters.send(&refused, &reading.rejection).await;
            if stored.is_err() {
                break;
            }
        }
        self.terminate_once_stored(message, stored).await
    }

    async fn terminate_once_stored(
        &self,
        message: &Message,
        stored: Result<(), async_nats::Error>,
    ) -> Result<(), async_nats::Error> {
        match stored {
            Ok(()) => message.ack_with(AckKind::Term).await,
            Err(err) => {
                tracing::error!(error = %err, "storing a dead letter failed; will retry the message");
                message
                    .ack_with(AckKind::Nak(Some(self.config.retry_delay)))
                    .await
            }
        }
    }
}
