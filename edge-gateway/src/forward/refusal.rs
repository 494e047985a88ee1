//! Which publish failures are worth retrying. A transient failure (the link is down, the hub is
//! busy or full) pauses forwarding, and the batch is sent again from the cursor. A permanent
//! one (the hub answered that it will never store *this* message) would stop the site forever
//! if retried: that message is set aside as a dead letter, at the site and at the hub, and
//! forwarding goes on. The list is in docs/architecture.md ("When the hub refuses").

use async_nats::jetstream::context::{PublishError, PublishErrorKind};
use async_nats::jetstream::{self, ErrorCode};
use edgeops_contracts::compression::decompressed;
use edgeops_contracts::{RejectCode, Rejection, SiteId};

use crate::reduction::{HubMessage, Outgoing, sequence_of_message_id, set_aside};

/// What one failed publish means for its message.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Retry the batch later; nothing is wrong with the message.
    Transient(String),
    /// Never retry this message: set it aside with this reason.
    Permanent(Rejection),
}

/// Classifies a failed JetStream publish (its send or its acknowledgement).
pub fn classify(err: &PublishError) -> Failure {
    match err.kind() {
        PublishErrorKind::MaxPayloadExceeded => {
            Failure::Permanent(Rejection::new(RejectCode::PayloadTooLarge, err.to_string()))
        }
        PublishErrorKind::WrongLastMessageId | PublishErrorKind::WrongLastSequence => {
            Failure::Permanent(Rejection::new(RejectCode::RefusedByHub, err.to_string()))
        }
        PublishErrorKind::StreamNotFound
        | PublishErrorKind::TimedOut
        | PublishErrorKind::BrokenPipe
        | PublishErrorKind::MaxAckPending => Failure::Transient(err.to_string()),
        PublishErrorKind::Other => match api_error(err) {
            Some(api) if is_about_the_hub(api.error_code()) => Failure::Transient(err.to_string()),
            Some(_) => Failure::Permanent(Rejection::new(
                RejectCode::RefusedByHub,
                format!("the hub will not store this message: {err}"),
            )),
            // Not an answer from the hub (a closed connection, a send that failed).
            None => Failure::Transient(err.to_string()),
        },
    }
}

/// The hub's JetStream answer behind a failed publish, if the hub answered.
fn api_error(err: &PublishError) -> Option<&jetstream::Error> {
    std::error::Error::source(err)?.downcast_ref::<jetstream::Error>()
}

/// API errors that describe the hub's state (full, unavailable, electing a leader), not the
/// message: they pass, so the message is sent again. Every other API error names something
/// about the message itself (too large for the stream, a failed expectation, a bad TTL).
fn is_about_the_hub(code: ErrorCode) -> bool {
    [
        ErrorCode::ACCOUNT_RESOURCES_EXCEEDED,
        ErrorCode::INSUFFICIENT_RESOURCES,
        ErrorCode::STORAGE_RESOURCES_EXCEEDED,
        ErrorCode::MEMORY_RESOURCES_EXCEEDED,
        ErrorCode::STREAM_STORE_FAILED,
        ErrorCode::TEMP_STORAGE_FAILED,
        ErrorCode::JETSTREAM_NOT_ENABLED,
        ErrorCode::JETSTREAM_NOT_ENABLED_FOR_ACCOUNT,
        ErrorCode::CLUSTER_NOT_AVAILABLE,
        ErrorCode::CLUSTER_NOT_ACTIVE,
        ErrorCode::CLUSTER_NOT_ASSIGNED,
        ErrorCode::CLUSTER_NOT_LEADER,
        ErrorCode::CLUSTER_NO_PEERS,
        ErrorCode::STREAM_OFFLINE,
        ErrorCode::STREAM_SEALED,
    ]
    .contains(&code)
}

/// The dead letter of a hub message the hub refused for good: what it carried, decompressed,
/// under the local sequence its id names.
pub fn refused_message(site: &SiteId, message: &HubMessage, reason: Rejection) -> Outgoing {
    let sequence = sequence_of_message_id(&message.message_id).unwrap_or_default();
    let payload = decompressed(&message.payload, MAX_DECOMPRESSED_BYTES)
        .map(|text| text.into_owned())
        .unwrap_or_else(|_| message.payload.clone());
    let mut dead_letter =
        set_aside::dead_letter(site, sequence, &message.subject, &payload, reason);
    // Distinct from the planner's dead letters and between a refused pack of readings and one
    // of aggregates ending at the same sequence.
    dead_letter.message_id = format!("{}:refused", message.message_id);
    dead_letter
}

/// A pack the gateway made never decompresses beyond this (ingest's limit for one message).
const MAX_DECOMPRESSED_BYTES: usize = 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    fn api(err_code: u64) -> PublishError {
        let error: jetstream::Error = serde_json::from_str(&format!(
            r#"{{"code":400,"err_code":{err_code},"description":"from the hub"}}"#
        ))
        .unwrap();
        PublishError::with_source(PublishErrorKind::Other, error)
    }

    fn code(failure: Failure) -> Option<RejectCode> {
        match failure {
            Failure::Permanent(rejection) => Some(rejection.code),
            Failure::Transient(_) => None,
        }
    }

    #[test]
    fn a_message_too_large_for_any_server_is_permanent() {
        let err = PublishError::new(PublishErrorKind::MaxPayloadExceeded);
        assert_eq!(code(classify(&err)), Some(RejectCode::PayloadTooLarge));
        // "message size exceeds maximum allowed" from the hub's stream.
        assert_eq!(code(classify(&api(10054))), Some(RejectCode::RefusedByHub));
    }

    #[test]
    fn a_link_or_hub_that_is_down_busy_or_full_is_transient() {
        for kind in [
            PublishErrorKind::StreamNotFound,
            PublishErrorKind::TimedOut,
            PublishErrorKind::BrokenPipe,
            PublishErrorKind::MaxAckPending,
        ] {
            assert_eq!(code(classify(&PublishError::new(kind))), None, "{kind}");
        }
        for full in [10023, 10047, 10077, 10008, 10118] {
            assert_eq!(code(classify(&api(full))), None, "{full}");
        }
        let not_from_the_hub = PublishError::with_source(PublishErrorKind::Other, "closed");
        assert_eq!(code(classify(&not_from_the_hub)), None);
    }

    #[test]
    fn a_refused_pack_is_dead_lettered_decompressed_under_its_last_sequence() {
        let text = br#"[{"ts":"2026-01-01T00:00:00Z","metrics":{"co2_ppm":1}}]"#.to_vec();
        let message = HubMessage {
            subject: "edgeops.readings.s1.d1".into(),
            payload: edgeops_contracts::compression::compress(&text),
            message_id: "s1:77".into(),
            body: crate::reduction::Body::Reading,
            readings: 1,
        };
        let site = SiteId::parse("s1").unwrap();
        let out = refused_message(
            &site,
            &message,
            Rejection::new(RejectCode::RefusedByHub, "no"),
        );
        let event: edgeops_contracts::EventEnvelope<edgeops_contracts::DeadLetter> =
            serde_json::from_slice(&out.payload).unwrap();
        assert_eq!(event.data.stream_sequence, 77);
        assert_eq!(event.data.payload().unwrap(), text);
        assert_eq!(out.subject, "edgeops.dlq.gateway-s1.refused_by_hub");
        assert_eq!(out.message_id, "s1:77:refused");
    }
}
