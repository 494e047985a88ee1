//! The forwarder: reads the site's reduced records (`REDUCED_LOCAL`, written by the reduction
//! stage, see [`super::reduce`]) in order from its cursor, packs them per device (one hub
//! message per device and batch, see [`crate::reduction::pack`]), publishes them with the ids
//! the stage gave them (`Nats-Msg-Id = <site>:<raw sequence>`), waits for the hub's
//! acknowledgement of the whole batch, then advances the cursor. A failed batch (link down, hub
//! busy) is retried from the cursor with backoff, cut and packed as before: nothing is skipped,
//! and what the hub already stored is de-duplicated there (and, past the duplicate window, by
//! ingest's natural key).
//!
//! What must not be forwarded (see [`crate::reduction::set_aside`]) and what the hub refuses for
//! good (see [`super::refusal`]) is set aside as a dead letter, kept at the site and reported to
//! the hub, and the cursor moves past it: one bad message never stops a site.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::stream::LastRawMessageErrorKind;
use async_nats::jetstream::{self, Message};
use edgeops_contracts::{SiteId, streams, subjects};
use edgeops_telemetry::names;
use opentelemetry::KeyValue;
use opentelemetry::metrics::Counter;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::backoff::Backoff;

use super::batch::{BatchShape, Full, collect, messages_after, sequence_of};
use super::cursor::Cursor;
use super::resend::ResendGuard;
use crate::reduction::record;
use crate::reduction::{Body, HubMessage, Outgoing, PackLimits, pack, sequence_of_message_id};

/// Longest pause between attempts while the hub is unreachable. A failed attempt costs one
/// consumer on the local stream and a request that fails at once, so retrying every second is
/// cheap, and a returning link starts draining the backlog within a second.
pub(super) const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(1);

/// Counters since start.
#[derive(Default)]
pub struct ForwarderStats {
    /// Raw readings the reduction stage read from the local stream, and their payload bytes.
    pub raw: AtomicU64,
    pub raw_bytes: AtomicU64,
    /// Messages sent to the hub (packs of readings, packs of aggregates), and their bytes.
    pub forwarded: AtomicU64,
    pub forwarded_bytes: AtomicU64,
    /// Readings those messages carried.
    pub forwarded_readings: AtomicU64,
    pub failed_batches: AtomicU64,
    /// Messages set aside as dead letters (at the site, and reported to the hub).
    pub set_aside: AtomicU64,
    /// Planned readings and aggregate messages not resent after a failure because the hub
    /// already had them.
    pub resend_skipped: AtomicU64,
    pub cursor: AtomicU64,
    /// Window summaries the hub acknowledged (their bytes are in `forwarded_bytes`).
    pub summaries_forwarded: AtomicU64,
    /// Window summaries stored at the site, and stores the local stream answered were
    /// duplicates (a window emitted again: none, the summarizer skips what it stored).
    pub summaries_stored: AtomicU64,
    pub summaries_duplicate: AtomicU64,
}

impl ForwarderStats {
    /// Bytes sent to the hub per raw byte received (the figure the policy is judged by).
    pub fn byte_ratio(&self) -> f64 {
        let raw = self.raw_bytes.load(Ordering::Relaxed);
        if raw == 0 {
            0.0
        } else {
            self.forwarded_bytes.load(Ordering::Relaxed) as f64 / raw as f64
        }
    }
}

pub struct Forwarder {
    pub site: SiteId,
    /// The hub's JetStream API (domain `hub`), to see what already arrived after a failure.
    pub hub_api: jetstream::Context,
    pub local: jetstream::Context,
    pub hub: jetstream::Context,
    pub cursor: Cursor,
    pub shape: BatchShape,
    pub pack_limits: PackLimits,
    pub stats: Arc<ForwarderStats>,
}

#[derive(Debug, thiserror::Error)]
pub(super) enum BatchError {
    #[error("reading the local stream: {0}")]
    Local(async_nats::Error),
    #[error("publishing to the hub: {0}")]
    Hub(async_nats::Error),
    #[error(transparent)]
    Cursor(#[from] super::cursor::CursorError),
}

/// The gateway's OpenTelemetry counters of what it sends; with the reduction stage's raw bytes,
/// the forwarded/raw byte ratio is their quotient.
struct GatewayMetrics {
    forwarded: Counter<u64>,
    forwarded_bytes: Counter<u64>,
    site: [KeyValue; 1],
}

impl GatewayMetrics {
    fn new(site: &SiteId) -> Self {
        let meter = opentelemetry::global::meter("edgeops.gateway");
        Self {
            forwarded: meter.u64_counter(names::GATEWAY_FORWARDED).build(),
            forwarded_bytes: meter.u64_counter(names::GATEWAY_FORWARDED_BYTES).build(),
            site: [KeyValue::new("site", site.to_string())],
        }
    }
}

impl Forwarder {
    /// Forwards until `shutdown`; a batch in flight is finished (acknowledged, or abandoned to be
    /// resent) before returning.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let metrics = GatewayMetrics::new(&self.site);
        let mut backoff = Backoff::new(Duration::from_millis(100), MAX_RETRY_BACKOFF);
        // What a failed attempt (or a previous process) delivered is checked before resending.
        let mut guard = ResendGuard::after_start();
        let mut position = self.cursor.load().await?;
        self.stats.cursor.store(position, Ordering::Relaxed);
        tracing::info!(site = %self.site, cursor = position, "forwarder resuming after cursor");
        while !shutdown.is_cancelled() {
            match self
                .forward_from(position, &mut guard, &shutdown, &metrics)
                .await
            {
                Ok(last) => {
                    position = last;
                    backoff.reset();
                }
                Err((last, err)) => {
                    position = last;
                    self.stats.failed_batches.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(site = %self.site, cursor = position, error = %err, backoff = ?backoff.next(), "forwarding paused; will resume from the cursor");
                    backoff.wait(&shutdown).await;
                }
            }
        }
        Ok(())
    }

    /// Streams the reduced backlog after `after`, one acknowledged batch at a time. Returns the
    /// cursor reached, with the error that stopped it if any.
    async fn forward_from(
        &self,
        after: u64,
        guard: &mut ResendGuard,
        shutdown: &CancellationToken,
        metrics: &GatewayMetrics,
    ) -> Result<u64, (u64, BatchError)> {
        let mut messages = messages_after(
            &self.local,
            streams::LOCAL_REDUCED,
            subjects::local_reduced(&self.site),
            after,
        )
        .await
        .map_err(|e| (after, BatchError::Local(e)))?;
        let mut position = after;
        while !shutdown.is_cancelled() {
            let batch_end = guard.batch_end(position + 1);
            // Records until the planned messages fill a batch (the count a retry is cut by
            // does not matter: it ends where the failed batch ended).
            let mut outgoing = Vec::new();
            let batch = collect(&mut messages, shutdown, self.shape.linger, batch_end, |m| {
                outgoing.extend(self.read_record(m));
                Full::from(outgoing.len() >= self.shape.size)
            })
            .await
            .map_err(|e| (position, BatchError::Local(e)))?;
            let Some(last) = batch.last() else { continue };
            let last_sequence = sequence_of(last).map_err(|e| (position, BatchError::Local(e)))?;
            let span = tracing::info_span!("edgeops.gateway.forward_batch", site = %self.site, records = batch.len(), messages = outgoing.len(), last_sequence);
            let first_sequence = position + 1;
            let check = guard.must_check(first_sequence);
            // Counted as planned: what a failed attempt already delivered (and the check below
            // then skips) reached the hub all the same, and was not counted when it failed.
            let planned = check.then(|| Tally::of(&pack(outgoing.clone(), self.pack_limits)));
            let tally = match self.send(outgoing, &batch, check).instrument(span).await {
                Ok((sent, skipped)) => {
                    if check {
                        guard.checked(skipped);
                    }
                    planned.unwrap_or_else(|| Tally::of(&sent))
                }
                Err(err) => {
                    // Everything up to `last_sequence` is checked against the hub first when
                    // the same records are sent again.
                    guard.failed(last_sequence);
                    return Err((position, err));
                }
            };
            self.cursor
                .save(last_sequence)
                .await
                .map_err(|e| (position, e.into()))?;
            position = last_sequence;
            self.record(tally, position, metrics);
        }
        Ok(position)
    }

    fn record(&self, tally: Tally, position: u64, metrics: &GatewayMetrics) {
        self.stats
            .forwarded
            .fetch_add(tally.messages, Ordering::Relaxed);
        self.stats
            .forwarded_bytes
            .fetch_add(tally.bytes, Ordering::Relaxed);
        self.stats
            .forwarded_readings
            .fetch_add(tally.readings, Ordering::Relaxed);
        self.stats.cursor.store(position, Ordering::Relaxed);
        metrics.forwarded_bytes.add(tally.bytes, &metrics.site);
        metrics.forwarded.add(tally.messages, &metrics.site);
    }

    /// The hub messages of one reduction record. A record that does not decode (only a
    /// hand-made message on the reduced subject can be one) is logged and passed over.
    fn read_record(&self, message: &Message) -> Vec<Outgoing> {
        record::decode(&message.payload).unwrap_or_else(|err| {
            tracing::error!(site = %self.site, subject = %message.subject, error = %err, "not a reduction record; passed over");
            Vec::new()
        })
    }

    /// Sends a planned batch (minus what the hub already has, when `check`), packed; returns
    /// what was sent and how many planned messages were found already on the hub.
    async fn send(
        &self,
        outgoing: Vec<Outgoing>,
        batch: &[Message],
        check: bool,
    ) -> Result<(Vec<HubMessage>, usize), BatchError> {
        let planned = outgoing.len();
        let outgoing = if check {
            self.skip_already_on_hub(outgoing).await?
        } else {
            outgoing
        };
        let skipped = planned - outgoing.len();
        let packed = pack(outgoing, self.pack_limits);
        // What the planner set aside is kept at the site before anything is reported.
        self.keep_at_site(packed.iter().filter(|m| m.body == Body::DeadLetter))
            .await?;
        let (trace_bytes, refused) = self.publish(&packed, batch).await?;
        self.stats
            .forwarded_bytes
            .fetch_add(trace_bytes, Ordering::Relaxed);
        if !refused.is_empty() {
            self.set_aside_refused(refused).await?;
        }
        Ok((packed, skipped))
    }

    /// Drops what the hub already stored. The hub's last message on each subject names, in its
    /// `Nats-Msg-Id`, the local sequence it came from; one connection delivers in order, so
    /// everything up to it arrived. This keeps the hub free of duplicates and in per-device
    /// order even when an outage outlasts the duplicate window.
    async fn skip_already_on_hub(
        &self,
        outgoing: Vec<Outgoing>,
    ) -> Result<Vec<Outgoing>, BatchError> {
        let mut stored: HashMap<String, u64> = HashMap::new();
        for subject in outgoing
            .iter()
            .map(|o| o.subject.as_str())
            .collect::<BTreeSet<_>>()
        {
            let stream_name = if subjects::parse_aggregate_subject(subject).is_some() {
                streams::HUB_AGGREGATES
            } else if subjects::is_dead_letter(subject) {
                streams::DEAD_LETTERS
            } else {
                streams::HUB_READINGS
            };
            let stream = self
                .hub_api
                .get_stream_no_info(stream_name)
                .await
                .map_err(|e| BatchError::Hub(e.into()))?;
            let last = match stream.get_last_raw_message_by_subject(subject).await {
                Ok(message) => message
                    .headers
                    .get("Nats-Msg-Id")
                    .and_then(|id| sequence_of_message_id(id.as_str()))
                    .unwrap_or(0),
                Err(err) if matches!(err.kind(), LastRawMessageErrorKind::NoMessageFound) => 0,
                Err(err) => return Err(BatchError::Hub(err.into())),
            };
            stored.insert(subject.to_owned(), last);
        }
        let before = outgoing.len();
        let remaining: Vec<Outgoing> = outgoing
            .into_iter()
            .filter(|o| o.sequence > stored.get(&o.subject).copied().unwrap_or(0))
            .collect();
        self.stats
            .resend_skipped
            .fetch_add((before - remaining.len()) as u64, Ordering::Relaxed);
        if remaining.len() != before {
            tracing::info!(site = %self.site, skipped = before - remaining.len(), "already on the hub; not resent");
        }
        Ok(remaining)
    }
}

/// What one batch puts on the hub: messages, the readings they carry, and bytes.
#[derive(Debug, Clone, Copy)]
struct Tally {
    messages: u64,
    readings: u64,
    bytes: u64,
}

impl Tally {
    fn of(sent: &[HubMessage]) -> Self {
        Self {
            messages: sent.len() as u64,
            readings: sent.iter().map(|m| m.readings).sum(),
            bytes: sent.iter().map(|m| m.wire_bytes() as u64).sum(),
        }
    }
}
