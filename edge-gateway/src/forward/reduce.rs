//! The reduction stage: reads the site's raw readings in order, applies the reduction policy
//! once, and records what it lets through in `REDUCED_LOCAL`, at the site. The forwarder sends
//! those records to the hub and the inference feed forecasts from them, so the model is served
//! exactly the readings preprocessing builds its training rows from, through restarts and
//! outages alike (see "Training/serving skew" in docs/architecture.md).
//!
//! It never waits on the uplink: a site without a link still reduces, and forecasts. Each batch
//! is recorded (every record acknowledged by the local JetStream) before the cursor moves; a
//! failed batch is planned again from the reduction state before it, and its records' ids
//! (those of the hub messages, `<site>:<raw sequence>[:suffix]`) let the local stream store
//! each once.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use async_nats::jetstream::{self, Message};
use edgeops_contracts::{SiteId, streams, subjects};
use edgeops_telemetry::names;
use opentelemetry::KeyValue;
use tokio_util::sync::CancellationToken;

use super::batch::{BatchShape, collect, sequence_of};
use super::cursor::{Cursor, CursorError};
use super::forwarder::ForwarderStats;
use crate::reduction::record::{self, TRACEPARENT_HEADER};
use crate::reduction::{ReductionPolicy, SitePlanner, sequence_of_message_id};

const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(1);

pub struct ReductionStage {
    pub site: SiteId,
    pub policy: ReductionPolicy,
    pub local: jetstream::Context,
    pub cursor: Cursor,
    pub shape: BatchShape,
    /// Counts the raw readings and bytes read (the byte ratio's denominator).
    pub stats: Arc<ForwarderStats>,
}

#[derive(Debug, thiserror::Error)]
enum StageError {
    #[error("reading or recording at the site: {0}")]
    Local(async_nats::Error),
    #[error(transparent)]
    Cursor(#[from] CursorError),
}

impl ReductionStage {
    /// Reduces until `shutdown`; a batch in flight is recorded (or abandoned, to be planned
    /// again from the same state) before returning.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut planner = SitePlanner::default();
        let mut position = self.start_position().await?;
        tracing::info!(site = %self.site, cursor = position, "reduction resuming after cursor");
        let raw_bytes = opentelemetry::global::meter("edgeops.gateway")
            .u64_counter(names::GATEWAY_RAW_BYTES)
            .build();
        let labels = [KeyValue::new("site", self.site.to_string())];
        let mut backoff = Duration::from_millis(100);
        while !shutdown.is_cancelled() {
            match self
                .reduce_from(position, &mut planner, &shutdown, |bytes| {
                    raw_bytes.add(bytes, &labels);
                })
                .await
            {
                Ok(last) => position = last,
                Err((last, err)) => {
                    position = last;
                    tracing::warn!(site = %self.site, cursor = position, error = %err, ?backoff, "reduction paused; will resume from the cursor");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = shutdown.cancelled() => {}
                    }
                    backoff = (backoff * 2).min(MAX_RETRY_BACKOFF);
                }
            }
        }
        Ok(())
    }

    /// After the saved cursor, or after the last raw reading already recorded if a previous
    /// process recorded further than it saved.
    async fn start_position(&self) -> anyhow::Result<u64> {
        let saved = self.cursor.load().await?;
        let mut stream = self.local.get_stream(streams::LOCAL_REDUCED).await?;
        let last = stream.info().await?.state.last_sequence;
        if last == 0 {
            return Ok(saved);
        }
        let recorded = match stream.get_raw_message(last).await {
            Ok(message) => message
                .headers
                .get("Nats-Msg-Id")
                .and_then(|id| sequence_of_message_id(id.as_str()))
                .unwrap_or(0),
            Err(err) => {
                tracing::warn!(site = %self.site, error = %err, "the last reduced record could not be read; reducing after the cursor");
                0
            }
        };
        Ok(saved.max(recorded))
    }

    async fn reduce_from(
        &self,
        after: u64,
        planner: &mut SitePlanner,
        shutdown: &CancellationToken,
        count_raw_bytes: impl Fn(u64),
    ) -> Result<u64, (u64, StageError)> {
        let local = |e: async_nats::Error| (after, StageError::Local(e));
        let stream = self
            .local
            .get_stream(streams::LOCAL_READINGS)
            .await
            .map_err(|e| local(e.into()))?;
        let consumer = stream
            .create_consumer(pull::OrderedConfig {
                // Every raw subject the local stream holds: another site's is set aside.
                filter_subject: subjects::all_raw_readings(),
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: after + 1,
                },
                ..Default::default()
            })
            .await
            .map_err(|e| local(e.into()))?;
        let mut messages = consumer.messages().await.map_err(|e| local(e.into()))?;
        let mut position = after;
        while !shutdown.is_cancelled() {
            let failed = |e| (position, StageError::Local(e));
            let batch = collect(&mut messages, shutdown, self.shape, None)
                .await
                .map_err(failed)?;
            let Some(last) = batch.last() else { continue };
            let last_sequence = sequence_of(last).map_err(failed)?;
            let before = planner.clone();
            if let Err(err) = self.record(&batch, planner).await {
                *planner = before;
                return Err((position, StageError::Local(err)));
            }
            self.cursor
                .save(last_sequence)
                .await
                .map_err(|e| (position, e.into()))?;
            position = last_sequence;
            let bytes: u64 = batch.iter().map(|m| m.payload.len() as u64).sum();
            self.stats
                .raw
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            self.stats.raw_bytes.fetch_add(bytes, Ordering::Relaxed);
            count_raw_bytes(bytes);
        }
        Ok(position)
    }

    /// Plans every reading of the batch and records what travels, pipelined; returns once the
    /// local JetStream has acknowledged every record.
    async fn record(
        &self,
        batch: &[Message],
        planner: &mut SitePlanner,
    ) -> Result<(), async_nats::Error> {
        let now = chrono::Utc::now();
        let mut acks = Vec::new();
        for message in batch {
            let sequence = sequence_of(message)?;
            let traceparent = message
                .headers
                .as_ref()
                .and_then(|h| h.get(TRACEPARENT_HEADER))
                .map(|v| v.as_str().to_owned());
            let planned = planner.plan(
                &self.policy,
                &self.site,
                sequence,
                message.subject.as_str(),
                &message.payload,
                now,
            );
            for outgoing in planned {
                let (subject, headers) =
                    record::to_record(&self.site, &outgoing, traceparent.as_deref());
                let ack = self
                    .local
                    .publish_with_headers(subject, headers, outgoing.payload.into())
                    .await?;
                acks.push(ack);
            }
        }
        for result in
            futures::future::join_all(acks.into_iter().map(std::future::IntoFuture::into_future))
                .await
        {
            result?;
        }
        Ok(())
    }
}
