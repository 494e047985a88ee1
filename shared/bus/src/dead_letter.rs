//! The dead-letter sink: a refused message goes, with its reason, to the `DEAD_LETTERS` stream
//! before it is terminated, so a refusal never loses data. What the sink stores is what a
//! person can read and publish again: a gateway's compressed pack is stored decompressed, and a
//! refused reading of a pack is stored alone, with its position in the pack.

use async_nats::HeaderMap;
use async_nats::jetstream::Context;
use async_nats::jetstream::message::PublishMessage as Publish;
use edgeops_contracts::compression::decompressed;
use edgeops_contracts::envelope::{Actor, EventEnvelope};
use edgeops_contracts::{DeadLetter, DeadLetterSource, Rejection, subjects};

use crate::headers;

/// What a compressed payload may decompress to here: what ingest accepts in one message.
const MAX_DECOMPRESSED_BYTES: usize = 1024 * 1024;

/// Where one consumer sends what it refuses.
#[derive(Clone)]
pub struct DeadLetterSink {
    js: Context,
    consumer: String,
}

/// The refused message (or one reading of it), as the consumer saw it.
pub struct Refused<'a> {
    pub stream: &'a str,
    pub stream_sequence: u64,
    pub subject: &'a str,
    pub deliveries: i64,
    pub payload: &'a [u8],
    /// Set when `payload` is one reading of a packed message: its position in the pack.
    pub pack_index: Option<usize>,
}

impl DeadLetterSink {
    pub fn new(js: Context, consumer: impl Into<String>) -> Self {
        Self {
            js,
            consumer: consumer.into(),
        }
    }

    /// Publishes the dead letter and waits until the stream has stored it.
    pub async fn send(
        &self,
        refused: &Refused<'_>,
        reason: &Rejection,
    ) -> Result<(), async_nats::Error> {
        // A frame that does not decompress is kept as it came: its bytes are the evidence.
        let payload = decompressed(refused.payload, MAX_DECOMPRESSED_BYTES)
            .unwrap_or(std::borrow::Cow::Borrowed(refused.payload));
        let source = DeadLetterSource {
            stream: refused.stream.to_owned(),
            stream_sequence: refused.stream_sequence,
            subject: refused.subject.to_owned(),
            deliveries: refused.deliveries,
        };
        let mut record = DeadLetter::new(self.consumer.clone(), source, reason.clone(), &payload);
        record.pack_index = refused.pack_index;
        publish_dead_letter(&self.js, &record, None).await?;
        tracing::warn!(
            consumer = %self.consumer,
            stream = refused.stream,
            sequence = refused.stream_sequence,
            pack_index = refused.pack_index,
            reason = %reason.code,
            detail = %reason.detail,
            "dead-lettered"
        );
        Ok(())
    }
}

/// Publishes `record` as a `dead_letter.recorded` event on `edgeops.dlq.<consumer>.<reason>` and
/// waits until the stream stored it. `message_id` de-duplicates a record that may be published
/// again (the gateway's, whose batch may be retried); otherwise the event id does.
pub async fn publish_dead_letter(
    js: &Context,
    record: &DeadLetter,
    message_id: Option<&str>,
) -> Result<(), async_nats::Error> {
    let subject = subjects::dead_letter(&record.consumer, record.reason.code.as_str());
    publish_record(js, subject, record, message_id).await
}

/// Publishes `record` as a `dead_letter.recorded` event on `subject` (a hub dead-letter subject,
/// or a site's local one) and waits until the stream stored it.
pub async fn publish_record(
    js: &Context,
    subject: String,
    record: &DeadLetter,
    message_id: Option<&str>,
) -> Result<(), async_nats::Error> {
    let aggregate_id = match record.pack_index {
        Some(index) => format!("{}-{}-{index}", record.stream, record.stream_sequence),
        None => format!("{}-{}", record.stream, record.stream_sequence),
    };
    let event = EventEnvelope::new(
        "dead_letter",
        &aggregate_id,
        Actor::Service(record.consumer.clone()),
        record.clone(),
    );
    let mut header_map = HeaderMap::new();
    header_map.insert(headers::REASON, record.reason.code.as_str());
    header_map.insert(headers::SOURCE_STREAM, record.stream.as_str());
    header_map.insert(
        headers::SOURCE_SEQUENCE,
        record.stream_sequence.to_string().as_str(),
    );
    edgeops_telemetry::propagation::inject_current_span(&mut header_map);
    let id = message_id.map_or_else(|| event.meta.id.to_string(), str::to_owned);
    let publish = Publish::build()
        .payload(serde_json::to_vec(&event)?.into())
        .headers(header_map)
        .message_id(id);
    js.send_publish(subject, publish).await?.await?;
    Ok(())
}
