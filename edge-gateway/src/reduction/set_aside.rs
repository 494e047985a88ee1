//! What the gateway sets aside instead of forwarding: messages that no hub could ever accept,
//! or that are not this site's to send. Each becomes a dead letter, kept at the site
//! (`DEAD_LETTERS_LOCAL`) and reported to the hub (`DEAD_LETTERS`, subject
//! `edgeops.dlq.gateway-<site>.<reason>`), and forwarding goes on. Pure: the forwarder publishes.
//!
//! Everything else that fails validation still travels for ingest to judge at the hub, where
//! the fleet's state (registered sites, the hub's clock) decides.

use edgeops_contracts::envelope::{Actor, EventEnvelope};
use edgeops_contracts::{
    DeadLetter, DeadLetterSource, ReadingLimits, RejectCode, Rejection, SiteId, streams, subjects,
};

use super::plan::{Body, Outgoing};

/// Why a raw message at local `sequence` must not be forwarded, if it must not.
///
/// - `foreign_site`: its subject names another site. The leaf link carries no raw subject, so
///   it would otherwise sit in this site's stream, unseen.
/// - `payload_too_large`: beyond one reading's limit, ingest would refuse it anyway, and near
///   the leaf's `max_payload` the gateway's headers would push it past what any server takes.
/// - `not_an_object`: a JSON array. A sensor message is one reading; arrays are the gateway's
///   own packing format, and one published by a sensor would skip the reduction policy.
pub fn reason_to_set_aside(
    site: &SiteId,
    raw_subject: &str,
    payload: &[u8],
    limits: &ReadingLimits,
) -> Option<Rejection> {
    match subjects::site_of_raw_subject(raw_subject) {
        Some(named) if named == site.as_str() => {}
        named => {
            return Some(Rejection::new(
                RejectCode::ForeignSite,
                format!(
                    "subject {raw_subject:?} names site {:?}, but was published at site {site}",
                    named.unwrap_or_default()
                ),
            ));
        }
    }
    if payload.len() > limits.max_payload_bytes {
        return Some(Rejection::new(
            RejectCode::PayloadTooLarge,
            format!(
                "{} bytes; a reading may have at most {}",
                payload.len(),
                limits.max_payload_bytes
            ),
        ));
    }
    if payload.trim_ascii_start().starts_with(b"[") {
        return Some(Rejection::new(
            RejectCode::NotAnObject,
            "a JSON array: a sensor message is one reading, a JSON object; publish one message per reading",
        ));
    }
    None
}

/// The dead letter of a message set aside at the site, as an outgoing message for the hub
/// (its local copy carries the same bytes). Its id names the local sequence, like every
/// forwarded message, so a retried batch sends it once.
pub fn dead_letter(
    site: &SiteId,
    sequence: u64,
    subject: &str,
    payload: &[u8],
    reason: Rejection,
) -> Outgoing {
    let code = reason.code;
    let source = DeadLetterSource {
        stream: streams::LOCAL_READINGS.into(),
        stream_sequence: sequence,
        subject: subject.to_owned(),
        deliveries: 1,
    };
    let consumer = subjects::gateway_consumer(site);
    let mut record = DeadLetter::new(consumer.clone(), source, reason, payload);
    record.site = Some(site.to_string());
    let event = EventEnvelope::new(
        "dead_letter",
        &format!("{site}:{sequence}"),
        Actor::Service(consumer.clone()),
        record,
    );
    Outgoing {
        subject: subjects::dead_letter(&consumer, code.as_str()),
        payload: serde_json::to_vec(&event).unwrap_or_default(),
        message_id: format!("{site}:{sequence}:dead_letter"),
        sequence,
        body: Body::DeadLetter,
    }
}

/// The subject a hub dead letter of this site is kept under at the site.
pub fn local_subject(site: &SiteId, hub_subject: &str) -> String {
    let reason = subjects::dead_letter_reason(hub_subject).unwrap_or("unknown");
    subjects::local_dead_letter(site, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s1() -> SiteId {
        SiteId::parse("s1").unwrap()
    }

    fn reason(subject: &str, payload: &[u8]) -> Option<RejectCode> {
        reason_to_set_aside(&s1(), subject, payload, &ReadingLimits::default()).map(|r| r.code)
    }

    #[test]
    fn another_sites_subject_is_set_aside() {
        let reading = br#"{"ts":"2026-01-01T00:00:00Z","metrics":{"co2_ppm":1}}"#;
        assert_eq!(
            reason("edgeops.raw.s2.x", reading),
            Some(RejectCode::ForeignSite)
        );
        assert_eq!(
            reason("edgeops.raw.s10.x", reading),
            Some(RejectCode::ForeignSite)
        );
        assert_eq!(reason("edgeops.raw.s1.x", reading), None);
    }

    #[test]
    fn what_no_reading_can_be_is_set_aside_and_the_rest_travels() {
        let huge = vec![b' '; ReadingLimits::default().max_payload_bytes + 1];
        assert_eq!(
            reason("edgeops.raw.s1.x", &huge),
            Some(RejectCode::PayloadTooLarge)
        );
        assert_eq!(
            reason("edgeops.raw.s1.x", b" [{\"ts\":1}]"),
            Some(RejectCode::NotAnObject)
        );
        // Invalid, but for ingest to judge at the hub, as before.
        assert_eq!(reason("edgeops.raw.s1.x", b"not json"), None);
    }

    #[test]
    fn a_dead_letter_names_site_sequence_and_reason_and_keeps_the_bytes() {
        let out = dead_letter(
            &s1(),
            42,
            "edgeops.raw.s2.x",
            b"{\"a\":1}",
            Rejection::new(RejectCode::ForeignSite, "elsewhere"),
        );
        assert_eq!(out.subject, "edgeops.dlq.gateway-s1.foreign_site");
        assert_eq!(out.message_id, "s1:42:dead_letter");
        assert_eq!(
            local_subject(&s1(), &out.subject),
            "edgeops.local.dlq.s1.foreign_site"
        );
        let event: EventEnvelope<DeadLetter> = serde_json::from_slice(&out.payload).unwrap();
        assert_eq!(event.data.site.as_deref(), Some("s1"));
        assert_eq!(event.data.stream_sequence, 42);
        assert_eq!(event.data.payload().unwrap(), b"{\"a\":1}");
    }
}
