//! The reduction stage: reads the site's raw readings in order, applies the reduction policy
//! once, and records what it lets through in `REDUCED_LOCAL`, at the site, one record per batch
//! (see [`crate::reduction::record`]). The forwarder sends those records to the hub and the
//! inference feed forecasts from them, so the model is served exactly the readings
//! preprocessing builds its training rows from, through restarts and outages alike (see
//! "Training/serving skew" in docs/architecture.md).
//!
//! It never waits on the uplink: a site without a link still reduces, and forecasts. A batch's
//! record is acknowledged by the local JetStream before the cursor moves. When recording fails,
//! the stage asks the stream whether the record arrived after all: if it did, it goes on after
//! it; if not, it plans the batch again from the reduction state before it. Either way each raw
//! reading is planned into exactly one stored record.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::{self, Message};
use edgeops_contracts::{SiteId, streams, subjects};
use edgeops_telemetry::names;
use opentelemetry::KeyValue;
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;

use super::batch::{BatchShape, Full, collect, messages_after, sequence_of};
use super::cursor::{Cursor, CursorError};
use super::forwarder::{ForwarderStats, MAX_RETRY_BACKOFF};
use crate::reduction::record::{self, MAX_BATCH_RAW_BYTES, MESSAGE_ID_HEADER, TRACEPARENT_HEADER};
use crate::reduction::{ReductionPolicy, SitePlanner, sequence_of_message_id};

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
        let mut backoff = Backoff::new(Duration::from_millis(100), MAX_RETRY_BACKOFF);
        while !shutdown.is_cancelled() {
            match self
                .reduce_from(position, &mut planner, &shutdown, |bytes| {
                    raw_bytes.add(bytes, &labels);
                })
                .await
            {
                Ok(last) => {
                    position = last;
                    backoff.reset();
                }
                Err((last, err)) => {
                    position = last;
                    tracing::warn!(site = %self.site, cursor = position, error = %err, backoff = ?backoff.next(), "reduction paused; will resume from the cursor");
                    backoff.wait(&shutdown).await;
                }
            }
        }
        Ok(())
    }

    /// After the saved cursor, or after the last raw reading already recorded if a previous
    /// process recorded further than it saved.
    async fn start_position(&self) -> anyhow::Result<u64> {
        let saved = self.cursor.load().await?;
        let recorded = self
            .recorded_until()
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        Ok(saved.max(recorded))
    }

    /// [`Self::recorded_until`], asked again until the local stream answers; `None` only at
    /// shutdown.
    async fn recorded_until_patiently(&self, shutdown: &CancellationToken) -> Option<u64> {
        let mut backoff = Backoff::new(Duration::from_millis(100), MAX_RETRY_BACKOFF);
        loop {
            match self.recorded_until().await {
                Ok(until) => return Some(until),
                Err(err) => {
                    tracing::warn!(site = %self.site, error = %err, "asking the local stream what it stored; retrying");
                    if backoff.wait(shutdown).await {
                        return None;
                    }
                }
            }
        }
    }

    /// The last raw sequence the newest stored record accounts for (0 when there is none).
    async fn recorded_until(&self) -> Result<u64, async_nats::Error> {
        let mut stream = self.local.get_stream(streams::LOCAL_REDUCED).await?;
        let last = stream.info().await?.state.last_sequence;
        if last == 0 {
            return Ok(0);
        }
        let message = stream.get_raw_message(last).await?;
        Ok(message
            .headers
            .get(MESSAGE_ID_HEADER)
            .and_then(|id| sequence_of_message_id(id.as_str()))
            .unwrap_or(0))
    }

    async fn reduce_from(
        &self,
        after: u64,
        planner: &mut SitePlanner,
        shutdown: &CancellationToken,
        count_raw_bytes: impl Fn(u64),
    ) -> Result<u64, (u64, StageError)> {
        // Every raw subject the local stream holds: another site's is set aside.
        let mut messages = messages_after(
            &self.local,
            streams::LOCAL_READINGS,
            subjects::all_raw_readings(),
            after,
        )
        .await
        .map_err(|e| (after, StageError::Local(e)))?;
        let mut position = after;
        while !shutdown.is_cancelled() {
            let failed = |e| (position, StageError::Local(e));
            let (mut count, mut bytes) = (0, 0);
            let batch = collect(&mut messages, shutdown, self.shape.linger, None, |m| {
                count += 1;
                bytes += m.payload.len();
                Full::from(count >= self.shape.size || bytes >= MAX_BATCH_RAW_BYTES)
            })
            .await
            .map_err(failed)?;
            let Some(last) = batch.last() else { continue };
            let last_sequence = sequence_of(last).map_err(failed)?;
            let before = planner.clone();
            if let Err(err) = self.record(&batch, last_sequence, planner).await {
                // Stored after all (only its acknowledgement was lost)? Then go on after it.
                // Not knowing is not "no": planning the batch again then would store it twice.
                let Some(until) = self.recorded_until_patiently(shutdown).await else {
                    return Err((position, StageError::Local(err)));
                };
                if until >= last_sequence {
                    tracing::info!(site = %self.site, last_sequence, error = %err, "the record was stored after all");
                } else {
                    *planner = before;
                    return Err((position, StageError::Local(err)));
                }
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

    /// Plans every reading of the batch and stores what travels as the batch's record; returns
    /// once the local JetStream has acknowledged it. A batch that plans nothing stores nothing.
    async fn record(
        &self,
        batch: &[Message],
        last_sequence: u64,
        planner: &mut SitePlanner,
    ) -> Result<(), async_nats::Error> {
        let now = chrono::Utc::now();
        let mut planned = Vec::new();
        let mut traceparent = None;
        for message in batch {
            let sequence = sequence_of(message)?;
            traceparent = traceparent.or_else(|| {
                message
                    .headers
                    .as_ref()
                    .and_then(|h| h.get(TRACEPARENT_HEADER))
                    .map(|v| v.as_str().to_owned())
            });
            planned.extend(planner.plan(
                &self.policy,
                &self.site,
                sequence,
                message.subject.as_str(),
                &message.payload,
                now,
            ));
        }
        if planned.is_empty() {
            return Ok(());
        }
        let (payload, headers) =
            record::encode(&self.site, &planned, last_sequence, traceparent.as_deref())?;
        self.local
            .publish_with_headers(subjects::local_reduced(&self.site), headers, payload.into())
            .await?
            .await?;
        Ok(())
    }
}
