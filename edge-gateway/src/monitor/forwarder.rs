//! The summary forwarder: sends `SUMMARIES_LOCAL` to the hub (`edgeops.summaries.<site>.<device>`,
//! stream `SUMMARIES` in domain `hub`) in order from its cursor (`summaries.cursor`), each with
//! its `Nats-Msg-Id`, waits for the hub's acknowledgements of a batch, then advances the cursor.
//! While the link is down it retries from the cursor with backoff: nothing is lost.
//!
//! **Once at the hub, whatever the outage.** After a failure (and on start) it first asks the
//! hub for the last summary of each device it is about to resend: a device's summaries are
//! stored in order of their windows, so every window up to that one arrived and is skipped. A
//! retry within the hub's duplicate window is de-duplicated there as well.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::LastRawMessageErrorKind;
use async_nats::jetstream::{self, Message};
use edgeops_contracts::monitoring::WindowSummary;
use edgeops_contracts::{SiteId, streams, subjects};
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::forward::ForwarderStats;
use crate::forward::batch::{BatchShape, Full, collect, sequence_of};
use crate::forward::cursor::Cursor;

/// The forwarder's cursor: the last `SUMMARIES_LOCAL` sequence the hub acknowledged.
pub const CURSOR_KEY: &str = "summaries.cursor";

const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(1);

pub struct SummaryForwarder {
    pub site: SiteId,
    pub local: jetstream::Context,
    /// Publishing to the hub over the leaf link, with the hub acknowledgement timeout.
    pub hub: jetstream::Context,
    /// The hub's JetStream API (domain `hub`), to see what already arrived after a failure.
    pub hub_api: jetstream::Context,
    pub cursor: Cursor,
    pub shape: BatchShape,
    /// Its bytes count in `forwarded_bytes`; its summaries in `summaries_forwarded`.
    pub stats: Arc<ForwarderStats>,
}

#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error("reading the site's summaries: {0}")]
    Local(async_nats::Error),
    #[error("sending to the hub: {0}")]
    Hub(async_nats::Error),
    #[error(transparent)]
    Cursor(#[from] crate::forward::cursor::CursorError),
}

/// A summary as it travels: subject, message id and payload.
struct Outgoing {
    sequence: u64,
    subject: String,
    message_id: String,
    window_start: i64,
    payload: bytes::Bytes,
}

impl SummaryForwarder {
    /// Forwards until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut position = self.cursor.load().await?;
        let mut backoff = Backoff::new(Duration::from_millis(100), MAX_RETRY_BACKOFF);
        tracing::info!(site = %self.site, cursor = position, "summary forwarder resuming after cursor");
        while !shutdown.is_cancelled() {
            match self.forward_from(position, &shutdown).await {
                Ok(last) => {
                    position = last;
                    backoff.reset();
                }
                Err((last, err)) => {
                    position = last;
                    tracing::warn!(site = %self.site, cursor = position, error = %err, backoff = ?backoff.next(), "forwarding summaries paused; will resume from the cursor");
                    backoff.wait(&shutdown).await;
                }
            }
        }
        Ok(())
    }

    async fn forward_from(
        &self,
        after: u64,
        shutdown: &CancellationToken,
    ) -> Result<u64, (u64, SendError)> {
        let local = |e: async_nats::Error| (after, SendError::Local(e));
        let stream = self
            .local
            .get_stream(streams::LOCAL_SUMMARIES)
            .await
            .map_err(|e| local(e.into()))?;
        let consumer = stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: subjects::local_summaries_of_site(&self.site),
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: after + 1,
                },
                ..Default::default()
            })
            .await
            .map_err(|e| local(e.into()))?;
        let mut messages = consumer.messages().await.map_err(|e| local(e.into()))?;
        let mut position = after;
        // What the hub holds is asked once per device after every (re)start of this loop.
        let mut on_hub: HashMap<String, i64> = HashMap::new();
        while !shutdown.is_cancelled() {
            let mut count = 0;
            let batch = collect(&mut messages, shutdown, self.shape.linger, None, |_| {
                count += 1;
                Full::from(count >= self.shape.size)
            })
            .await
            .map_err(|e| (position, SendError::Local(e)))?;
            let Some(last) = batch.last() else { continue };
            let last_sequence = sequence_of(last).map_err(|e| (position, SendError::Local(e)))?;
            let mut outgoing = Vec::with_capacity(batch.len());
            for message in &batch {
                if let Some(summary) = self.outgoing(message) {
                    outgoing.push(summary);
                }
            }
            let sent = self
                .send(outgoing, &mut on_hub)
                .await
                .map_err(|e| (position, e))?;
            self.cursor
                .save(last_sequence)
                .await
                .map_err(|e| (position, e.into()))?;
            position = last_sequence;
            tracing::debug!(site = %self.site, sent, cursor = position, "summaries acknowledged by the hub");
        }
        Ok(position)
    }

    /// A stored summary as it travels; one that does not decode (only a hand-made message on
    /// the summary subjects can be one) is logged and passed over.
    fn outgoing(&self, message: &Message) -> Option<Outgoing> {
        let sequence = message.info().ok()?.stream_sequence;
        match serde_json::from_slice::<WindowSummary>(&message.payload) {
            Ok(summary) => Some(Outgoing {
                sequence,
                subject: subjects::hub_summary(&self.site, &summary.device),
                message_id: summary.message_id(),
                window_start: summary.window_start.timestamp(),
                payload: message.payload.clone(),
            }),
            Err(err) => {
                tracing::error!(site = %self.site, sequence, error = %err, "not a window summary; passed over");
                None
            }
        }
    }

    /// Publishes what the hub does not hold yet, pipelined, then awaits every
    /// acknowledgement; returns how many were sent.
    async fn send(
        &self,
        outgoing: Vec<Outgoing>,
        on_hub: &mut HashMap<String, i64>,
    ) -> Result<usize, SendError> {
        let mut acks = Vec::with_capacity(outgoing.len());
        let mut bytes = 0u64;
        for summary in outgoing {
            if !on_hub.contains_key(&summary.subject) {
                let stored = self.last_on_hub(&summary.subject).await?;
                on_hub.insert(summary.subject.clone(), stored);
            }
            if on_hub
                .get(&summary.subject)
                .is_some_and(|stored| summary.window_start <= *stored)
            {
                tracing::info!(site = %self.site, sequence = summary.sequence, message_id = %summary.message_id, "summary already on the hub; not resent");
                continue;
            }
            bytes += (summary.payload.len() + id_header_bytes(&summary.message_id)) as u64;
            let publish = PublishMessage::build()
                .payload(summary.payload)
                .message_id(summary.message_id.as_str());
            let ack = self
                .hub
                .send_publish(summary.subject.clone(), publish)
                .await
                .map_err(|e| SendError::Hub(e.into()))?;
            on_hub.insert(summary.subject, summary.window_start);
            acks.push(ack);
        }
        let sent = acks.len();
        for ack in acks {
            ack.await.map_err(|e| SendError::Hub(e.into()))?;
        }
        self.stats
            .forwarded_bytes
            .fetch_add(bytes, Ordering::Relaxed);
        self.stats
            .summaries_forwarded
            .fetch_add(sent as u64, Ordering::Relaxed);
        Ok(sent)
    }

    /// The window start of the last summary the hub holds on `subject` (`i64::MIN`: none).
    async fn last_on_hub(&self, subject: &str) -> Result<i64, SendError> {
        let stream = self
            .hub_api
            .get_stream_no_info(streams::HUB_SUMMARIES)
            .await
            .map_err(|e| SendError::Hub(e.into()))?;
        match stream.get_last_raw_message_by_subject(subject).await {
            Ok(message) => Ok(serde_json::from_slice::<WindowSummary>(&message.payload)
                .map_or(i64::MIN, |s| s.window_start.timestamp())),
            Err(err) if matches!(err.kind(), LastRawMessageErrorKind::NoMessageFound) => {
                Ok(i64::MIN)
            }
            Err(err) => Err(SendError::Hub(err.into())),
        }
    }
}

/// The bytes a `Nats-Msg-Id` header adds on the uplink.
fn id_header_bytes(message_id: &str) -> usize {
    "NATS/1.0\r\nNats-Msg-Id: \r\n\r\n".len() + message_id.len()
}
