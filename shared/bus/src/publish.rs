//! Publishing domain events: the event id becomes `Nats-Msg-Id` (JetStream de-duplication),
//! the current trace context travels in headers, and an expected last subject sequence makes
//! concurrent writers of one aggregate conflict instead of both winning.

use async_nats::HeaderMap;
use async_nats::jetstream::Context;
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage as Publish;
use async_nats::jetstream::publish::PublishAck;
use edgeops_contracts::envelope::EventEnvelope;
use edgeops_contracts::subjects;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum PublishEventError {
    #[error("encoding event {0}")]
    Encode(#[source] serde_json::Error),
    #[error(
        "aggregate {subject} moved on: expected last sequence {expected:?}; reload and decide again"
    )]
    Conflict {
        subject: String,
        expected: Option<u64>,
    },
    #[error("publishing to {subject}: {source}")]
    Publish {
        subject: String,
        #[source]
        source: async_nats::Error,
    },
}

/// Publishes `event` on its aggregate's subject and waits for the stream's acknowledgement.
/// `expected_last_subject_sequence`: `Some(0)` = the aggregate must be new; `Some(n)` = its
/// last event must be at stream sequence `n`; `None` = no concurrency check. Any serializable
/// payload: typed events (`EventData`) and envelopes whose type is named at run time (an enum
/// of an aggregate's events, `EventEnvelope<Value>`) alike.
pub async fn publish_event<T: Serialize>(
    js: &Context,
    event: &EventEnvelope<T>,
    expected_last_subject_sequence: Option<u64>,
) -> Result<PublishAck, PublishEventError> {
    let subject = subjects::aggregate_events(&event.meta.aggregate_kind, &event.meta.aggregate_id);
    let payload = serde_json::to_vec(event).map_err(PublishEventError::Encode)?;
    let mut headers = HeaderMap::new();
    edgeops_telemetry::propagation::inject_current_span(&mut headers);
    let mut publish = Publish::build()
        .payload(payload.into())
        .headers(headers)
        .message_id(event.meta.id.to_string());
    if let Some(sequence) = expected_last_subject_sequence {
        publish = publish.expected_last_subject_sequence(sequence);
    }
    let failed = |source: async_nats::Error| PublishEventError::Publish {
        subject: subject.clone(),
        source,
    };
    let ack = js
        .send_publish(subject.clone(), publish)
        .await
        .map_err(|e| failed(e.into()))?;
    ack.await.map_err(|err| match err.kind() {
        PublishErrorKind::WrongLastSequence => PublishEventError::Conflict {
            subject: subject.clone(),
            expected: expected_last_subject_sequence,
        },
        _ => failed(err.into()),
    })
}
