//! The forwarder: reads the local stream in order from the cursor, publishes each reading to
//! the hub with `Nats-Msg-Id = <site>:<local sequence>`, waits for the hub's acknowledgement
//! of the whole batch, then advances the cursor. A failed batch (link down, hub busy) is
//! retried from the cursor with backoff: nothing is skipped, and what the hub already stored
//! is de-duplicated there (and, past the duplicate window, by ingest's natural key).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, Message};
use edgeops_bus::headers;
use edgeops_contracts::{SiteId, streams, subjects};
use edgeops_telemetry::names;
use futures::StreamExt;
use opentelemetry::metrics::Counter;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::cursor::Cursor;

/// Counters since start.
#[derive(Default)]
pub struct ForwarderStats {
    pub forwarded: AtomicU64,
    pub forwarded_bytes: AtomicU64,
    pub failed_batches: AtomicU64,
    pub cursor: AtomicU64,
}

pub struct Forwarder {
    pub site: SiteId,
    pub local: jetstream::Context,
    pub hub: jetstream::Context,
    pub cursor: Cursor,
    pub batch_size: usize,
    pub batch_linger: Duration,
    pub stats: Arc<ForwarderStats>,
}

#[derive(Debug, thiserror::Error)]
enum BatchError {
    #[error("reading the local stream: {0}")]
    Local(async_nats::Error),
    #[error("publishing to the hub: {0}")]
    Hub(async_nats::Error),
    #[error(transparent)]
    Cursor(#[from] super::cursor::CursorError),
}

impl Forwarder {
    /// Forwards until `shutdown`; a batch in flight is finished (acknowledged or abandoned
    /// to be resent) before returning.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let forwarded_counter = opentelemetry::global::meter("edgeops.gateway")
            .u64_counter(names::GATEWAY_FORWARDED)
            .build();
        let mut backoff = Duration::from_millis(100);
        let mut position = self.cursor.load().await?;
        self.stats.cursor.store(position, Ordering::Relaxed);
        tracing::info!(site = %self.site, cursor = position, "forwarder resuming after cursor");
        while !shutdown.is_cancelled() {
            match self
                .forward_from(position, &shutdown, &forwarded_counter)
                .await
            {
                Ok(last) => {
                    position = last;
                }
                Err((last, err)) => {
                    position = last;
                    self.stats.failed_batches.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(site = %self.site, cursor = position, error = %err, ?backoff, "forwarding paused; will resume from the cursor");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = shutdown.cancelled() => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            }
            backoff = Duration::from_millis(100);
        }
        Ok(())
    }

    /// Streams the local backlog after `after`, one acknowledged batch at a time. Returns the
    /// cursor reached, with the error that stopped it if any.
    async fn forward_from(
        &self,
        after: u64,
        shutdown: &CancellationToken,
        counter: &Counter<u64>,
    ) -> Result<u64, (u64, BatchError)> {
        let stream = self
            .local
            .get_stream(streams::LOCAL_READINGS)
            .await
            .map_err(|e| (after, BatchError::Local(e.into())))?;
        let consumer = stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: subjects::raw_readings_of_site(&self.site),
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: after + 1,
                },
                ..Default::default()
            })
            .await
            .map_err(|e| (after, BatchError::Local(e.into())))?;
        let mut messages = consumer
            .messages()
            .await
            .map_err(|e| (after, BatchError::Local(e.into())))?;
        let mut position = after;
        while !shutdown.is_cancelled() {
            let batch = self
                .collect(&mut messages, shutdown)
                .await
                .map_err(|e| (position, e))?;
            let Some(last) = batch.last() else { continue };
            let last_sequence = last
                .info()
                .map(|i| i.stream_sequence)
                .map_err(|e| (position, BatchError::Local(e)))?;
            let span = tracing::info_span!("edgeops.gateway.forward_batch", site = %self.site, readings = batch.len(), last_sequence);
            self.publish_batch(&batch)
                .instrument(span)
                .await
                .map_err(|e| (position, e))?;
            self.cursor
                .save(last_sequence)
                .await
                .map_err(|e| (position, e.into()))?;
            position = last_sequence;
            let bytes: usize = batch.iter().map(|m| m.payload.len()).sum();
            self.stats
                .forwarded
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            self.stats
                .forwarded_bytes
                .fetch_add(bytes as u64, Ordering::Relaxed);
            self.stats.cursor.store(position, Ordering::Relaxed);
            counter.add(
                batch.len() as u64,
                &[opentelemetry::KeyValue::new("site", self.site.to_string())],
            );
        }
        Ok(position)
    }

    async fn collect(
        &self,
        messages: &mut pull::Ordered,
        shutdown: &CancellationToken,
    ) -> Result<Vec<Message>, BatchError> {
        let mut batch = Vec::with_capacity(self.batch_size);
        let linger = tokio::time::sleep(self.batch_linger);
        tokio::pin!(linger);
        while batch.len() < self.batch_size {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                next = messages.next() => match next {
                    Some(Ok(message)) => batch.push(message),
                    Some(Err(err)) => return Err(BatchError::Local(err.into())),
                    None => break,
                },
                () = &mut linger, if !batch.is_empty() => break,
            }
        }
        Ok(batch)
    }

    /// Publishes every reading of the batch, pipelined, then waits for every acknowledgement.
    async fn publish_batch(&self, batch: &[Message]) -> Result<(), BatchError> {
        let mut acks: Vec<PublishAckFuture> = Vec::with_capacity(batch.len());
        for message in batch {
            let Some(subject) = subjects::hub_subject_for_raw(message.subject.as_str()) else {
                continue;
            };
            let sequence = message
                .info()
                .map(|i| i.stream_sequence)
                .map_err(BatchError::Local)?;
            let mut header_map = HeaderMap::new();
            if let Some(traceparent) = message.headers.as_ref().and_then(|h| h.get("traceparent")) {
                header_map.insert("traceparent", traceparent.as_str());
            } else {
                edgeops_telemetry::propagation::inject_current_span(&mut header_map);
            }
            header_map.insert(headers::SITE, self.site.as_str());
            let publish = PublishMessage::build()
                .payload(message.payload.clone())
                .headers(header_map)
                .message_id(format!("{}:{sequence}", self.site));
            let ack = self
                .hub
                .send_publish(subject, publish)
                .await
                .map_err(|e| BatchError::Hub(e.into()))?;
            acks.push(ack);
        }
        for result in
            futures::future::join_all(acks.into_iter().map(std::future::IntoFuture::into_future))
                .await
        {
            result.map_err(|e| BatchError::Hub(e.into()))?;
        }
        Ok(())
    }
}
