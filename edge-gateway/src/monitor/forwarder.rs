//! The summary forwarder: sends `SUMMARIES_LOCAL` to the hub in order from its cursor
//! (`summaries.cursor`), packed: each batch's summaries travel as one JSON array on the site's
//! subject (`edgeops.summaries.<site>`, stream `SUMMARIES` in domain `hub`), as a zstd frame when
//! that is smaller (summaries of one site share most of their text), with
//! `Nats-Msg-Id = <site>:summaries:<last local sequence>`. It waits for the hub's
//! acknowledgement, then advances the cursor. While the link is down it retries from the
//! cursor with backoff: nothing is lost.
//!
//! **Once at the hub, whatever the outage.** After a failure (and on start) it first asks the
//! hub for the last pack on the site's subject: its id names the last local sequence it
//! carried, and packs are stored in order, so everything up to it arrived and is skipped. A
//! retry within the hub's duplicate window is de-duplicated there as well.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::LastRawMessageErrorKind;
use async_nats::jetstream::{self, Message};
use edgeops_contracts::compression;
use edgeops_contracts::{SiteId, streams, subjects};
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::forward::ForwarderStats;
use crate::forward::batch::{BatchShape, Full, collect, messages_after, sequence_of};
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

/// Largest pack, as JSON text before compression (the hub takes 1 MiB per message).
const MAX_PACK_BYTES: usize = 512 * 1024;

/// A stored summary: its local sequence and JSON text.
struct Stored {
    sequence: u64,
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
        let mut messages = messages_after(
            &self.local,
            streams::LOCAL_SUMMARIES,
            subjects::local_summaries_of_site(&self.site),
            after,
        )
        .await
        .map_err(|e| (after, SendError::Local(e)))?;
        let mut position = after;
        // What the hub holds is asked once after every (re)start of this loop.
        let mut on_hub: Option<u64> = None;
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
            let outgoing: Vec<Stored> = batch.iter().filter_map(|m| self.stored(m)).collect();
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

    /// A stored summary; one that is not JSON (only a hand-made message on the summary
    /// subjects can be one) is logged and passed over.
    fn stored(&self, message: &Message) -> Option<Stored> {
        let sequence = message.info().ok()?.stream_sequence;
        if serde_json::from_slice::<serde_json::Value>(&message.payload).is_err() {
            tracing::error!(site = %self.site, sequence, "not a window summary; passed over");
            return None;
        }
        Some(Stored {
            sequence,
            payload: message.payload.clone(),
        })
    }

    /// Publishes, in packs, what the hub does not hold yet, then awaits every
    /// acknowledgement; returns how many summaries were sent.
    async fn send(
        &self,
        outgoing: Vec<Stored>,
        on_hub: &mut Option<u64>,
    ) -> Result<usize, SendError> {
        let subject = subjects::hub_summaries_of_site(&self.site);
        let stored = match *on_hub {
            Some(stored) => stored,
            None => self.last_on_hub(&subject).await?,
        };
        let fresh: Vec<Stored> = outgoing
            .into_iter()
            .filter(|s| s.sequence > stored)
            .collect();
        let (mut acks, mut bytes, mut sent) = (Vec::new(), 0u64, 0usize);
        for pack in packs(&fresh) {
            let Some(last) = pack.last() else { continue };
            let message_id = pack_message_id(&self.site, last.sequence);
            let payload = compression::compress_if_smaller(json_array(pack));
            bytes += (payload.len() + id_header_bytes(&message_id)) as u64;
            let publish = PublishMessage::build()
                .payload(payload.into())
                .message_id(message_id.as_str());
            let ack = self
                .hub
                .send_publish(subject.clone(), publish)
                .await
                .map_err(|e| SendError::Hub(e.into()))?;
            acks.push(ack);
            sent += pack.len();
            *on_hub = Some(last.sequence);
        }
        for ack in acks {
            ack.await.map_err(|e| SendError::Hub(e.into()))?;
        }
        if on_hub.is_none() {
            *on_hub = Some(stored);
        }
        self.stats
            .forwarded_bytes
            .fetch_add(bytes, Ordering::Relaxed);
        self.stats
            .summaries_forwarded
            .fetch_add(sent as u64, Ordering::Relaxed);
        Ok(sent)
    }

    /// The last local sequence the hub holds a pack up to (0: none).
    async fn last_on_hub(&self, subject: &str) -> Result<u64, SendError> {
        let stream = self
            .hub_api
            .get_stream_no_info(streams::HUB_SUMMARIES)
            .await
            .map_err(|e| SendError::Hub(e.into()))?;
        match stream.get_last_raw_message_by_subject(subject).await {
            Ok(message) => Ok(message
                .headers
                .get("Nats-Msg-Id")
                .and_then(|id| id.as_str().rsplit(':').next()?.parse().ok())
                .unwrap_or(0)),
            Err(err) if matches!(err.kind(), LastRawMessageErrorKind::NoMessageFound) => Ok(0),
            Err(err) => Err(SendError::Hub(err.into())),
        }
    }
}

/// The id of a pack whose last summary is local sequence `last`.
fn pack_message_id(site: &SiteId, last: u64) -> String {
    format!("{site}:summaries:{last}")
}

/// Consecutive summaries cut into packs of at most [`MAX_PACK_BYTES`] of JSON.
fn packs(summaries: &[Stored]) -> Vec<&[Stored]> {
    let mut packs = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, summary) in summaries.iter().enumerate() {
        if i > start && bytes + summary.payload.len() + 1 > MAX_PACK_BYTES {
            packs.push(&summaries[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += summary.payload.len() + 1;
    }
    if start < summaries.len() {
        packs.push(&summaries[start..]);
    }
    packs
}

/// `[s1,s2,...]` from the summaries' own JSON texts.
fn json_array(pack: &[Stored]) -> Vec<u8> {
    let mut text = Vec::with_capacity(pack.iter().map(|s| s.payload.len() + 1).sum::<usize>() + 2);
    text.push(b'[');
    for (i, summary) in pack.iter().enumerate() {
        if i > 0 {
            text.push(b',');
        }
        text.extend_from_slice(&summary.payload);
    }
    text.push(b']');
    text
}

/// The bytes a `Nats-Msg-Id` header adds on the uplink.
fn id_header_bytes(message_id: &str) -> usize {
    "NATS/1.0\r\nNats-Msg-Id: \r\n\r\n".len() + message_id.len()
}
