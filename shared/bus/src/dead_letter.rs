//! The dead-letter sink: a refused message goes, whole and with its reason, to the
//! `DEAD_LETTERS` stream before it is terminated, so a refusal never loses data.

use async_nats::HeaderMap;
use async_nats::jetstream::Context;
use async_nats::jetstream::message::PublishMessage as Publish;
use edgeops_contracts::envelope::{Actor, EventEnvelope};
use edgeops_contracts::{DeadLetter, Rejection, subjects};

use crate::headers;

/// Where one consumer sends what it refuses.
#[derive(Clone)]
pub struct DeadLetterSink {
    js: Context,
    consumer: String,
}

/// The refused message, as the consumer saw it.
pub struct Refused<'a> {
    pub stream: &'a str,
    pub stream_sequence: u64,
    pub subject: &'a str,
    pub deliveries: i64,
    pub payload: &'a [u8],
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
        let (payload_utf8, payload_hex) = DeadLetter::payload_fields(refused.payload);
        let record = DeadLetter {
            consumer: self.consumer.clone(),
            stream: refused.stream.to_owned(),
            stream_sequence: refused.stream_sequence,
            subject: refused.subject.to_owned(),
            deliveries: refused.deliveries,
            reason: reason.clone(),
            payload_utf8,
            payload_hex,
        };
        let event = EventEnvelope::new(
            "dead_letter",
            &format!("{}-{}", refused.stream, refused.stream_sequence),
            Actor::Service(self.consumer.clone()),
            record,
        );
        let mut header_map = HeaderMap::new();
        header_map.insert(headers::REASON, reason.code.as_str());
        header_map.insert(headers::SOURCE_STREAM, refused.stream);
        header_map.insert(
            headers::SOURCE_SEQUENCE,
            refused.stream_sequence.to_string().as_str(),
        );
        edgeops_telemetry::propagation::inject_current_span(&mut header_map);
        let publish = Publish::build()
            .payload(serde_json::to_vec(&event)?.into())
            .headers(header_map)
            .message_id(event.meta.id.to_string());
        let subject = subjects::dead_letter(&self.consumer, reason.code.as_str());
        self.js.send_publish(subject, publish).await?.await?;
        tracing::warn!(
            consumer = %self.consumer,
            stream = refused.stream,
            sequence = refused.stream_sequence,
            reason = %reason.code,
            detail = %reason.detail,
            "dead-lettered"
        );
        Ok(())
    }
}
