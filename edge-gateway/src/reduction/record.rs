//! A planned hub message as the site keeps it in `REDUCED_LOCAL`: the body in the subject, the
//! hub subject and the id in headers, the payload as planned. The reduction stage writes these;
//! the forwarder sends them and the inference feed forecasts from them, so both read the same
//! decisions, made once.

use async_nats::HeaderMap;
use edgeops_contracts::{Reading, ReadingLimits, SiteId, subjects};

use super::plan::{Body, Outgoing, sequence_of_message_id};

/// The header naming the subject a record is sent to at the hub.
pub const HUB_SUBJECT_HEADER: &str = "Edgeops-Hub-Subject";
/// JetStream's de-duplication header: the record keeps the hub message's id.
const MESSAGE_ID_HEADER: &str = "Nats-Msg-Id";
/// A sensor's trace context travels with its reading to the hub.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// What a record's subject says it carries.
pub fn body_token(body: Body) -> &'static str {
    match body {
        Body::Reading => "reading",
        Body::Aggregates => "aggregates",
        Body::Unchecked => "unchecked",
        Body::DeadLetter => "dead_letter",
    }
}

fn body_of_token(token: &str) -> Option<Body> {
    match token {
        "reading" => Some(Body::Reading),
        "aggregates" => Some(Body::Aggregates),
        "unchecked" => Some(Body::Unchecked),
        "dead_letter" => Some(Body::DeadLetter),
        _ => None,
    }
}

/// The subject that holds the reduced readings of `site` (what the inference feed reads).
pub fn readings_subject(site: &SiteId) -> String {
    subjects::local_reduced(site, body_token(Body::Reading))
}

/// The local subject and headers of `outgoing`; `traceparent` is the raw reading's, if any.
pub fn to_record(
    site: &SiteId,
    outgoing: &Outgoing,
    traceparent: Option<&str>,
) -> (String, HeaderMap) {
    let mut headers = HeaderMap::new();
    headers.insert(MESSAGE_ID_HEADER, outgoing.message_id.as_str());
    headers.insert(HUB_SUBJECT_HEADER, outgoing.subject.as_str());
    if let Some(context) = traceparent {
        headers.insert(TRACEPARENT_HEADER, context);
    }
    (
        subjects::local_reduced(site, body_token(outgoing.body)),
        headers,
    )
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("{0:?} is not a reduced record's subject")]
    Subject(String),
    #[error("the record has no {0} header")]
    MissingHeader(&'static str),
    #[error("the record's id {0:?} names no local sequence")]
    MessageId(String),
}

/// The hub message a record holds.
pub fn from_record(
    subject: &str,
    headers: Option<&HeaderMap>,
    payload: &[u8],
) -> Result<Outgoing, RecordError> {
    let body = subjects::reduced_body(subject)
        .and_then(body_of_token)
        .ok_or_else(|| RecordError::Subject(subject.to_owned()))?;
    let header = |name: &'static str| {
        headers
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_owned())
            .ok_or(RecordError::MissingHeader(name))
    };
    let message_id = header(MESSAGE_ID_HEADER)?;
    let sequence = sequence_of_message_id(&message_id)
        .ok_or_else(|| RecordError::MessageId(message_id.clone()))?;
    Ok(Outgoing {
        subject: header(HUB_SUBJECT_HEADER)?,
        payload: payload.to_vec(),
        message_id,
        sequence,
        body,
    })
}

/// The reading a reduced `reading` record carries, as ingest will read it at the hub: the
/// metrics that travelled, at the reading's time. `None` for any other record, or one the hub
/// would refuse (ingest dead-letters it there).
pub fn reading_of(
    outgoing: &Outgoing,
    now: chrono::DateTime<chrono::Utc>,
    limits: &ReadingLimits,
) -> Option<Reading> {
    if outgoing.body != Body::Reading {
        return None;
    }
    Reading::from_message(&outgoing.subject, &outgoing.payload, now, limits).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reduction::{ReductionPolicy, SitePlanner};

    fn site() -> SiteId {
        SiteId::parse("s1").unwrap()
    }

    fn planned(payload: &str) -> Vec<Outgoing> {
        let mut planner = SitePlanner::default();
        planner.plan(
            &ReductionPolicy::fleet_default(),
            &site(),
            7,
            "edgeops.raw.s1.room-1",
            payload.as_bytes(),
            chrono::Utc::now(),
        )
    }

    #[test]
    fn every_planned_message_survives_its_record() {
        let reading =
            r#"{"ts":"2026-01-01T00:00:00Z","metrics":{"co2_ppm":612.5,"temperature_c":21}}"#;
        let mut outgoing = planned(reading);
        outgoing.extend(planned("[1,2]"));
        outgoing.extend(planned(r#"{"ts":"yesterday","metrics":{}}"#));
        let bodies: Vec<Body> = outgoing.iter().map(|o| o.body).collect();
        assert!(bodies.contains(&Body::Reading) && bodies.contains(&Body::DeadLetter));
        assert!(bodies.contains(&Body::Unchecked));
        for message in outgoing {
            let (subject, headers) = to_record(&site(), &message, Some("00-abc-def-01"));
            assert_eq!(
                from_record(&subject, Some(&headers), &message.payload),
                Ok(message)
            );
            assert_eq!(
                headers.get(TRACEPARENT_HEADER).map(|v| v.as_str()),
                Some("00-abc-def-01")
            );
        }
    }

    #[test]
    fn a_reduced_reading_reads_back_as_the_hub_will_read_it() {
        let reading =
            r#"{"ts":"2026-01-01T00:00:00Z","metrics":{"co2_ppm":612.5,"temperature_c":21}}"#;
        let outgoing = planned(reading);
        let read = reading_of(&outgoing[0], chrono::Utc::now(), &ReadingLimits::default())
            .expect("a reading");
        assert_eq!(read.device.as_str(), "room-1");
        assert_eq!(read.metrics["co2_ppm"], 612.5);
        assert_eq!(read.metrics["temperature_c"], 21.0);
    }

    #[test]
    fn a_record_without_its_headers_or_subject_is_refused_with_the_reason() {
        let message = planned(r#"{"ts":"2026-01-01T00:00:00Z","metrics":{"co2_ppm":1}}"#).remove(0);
        let (subject, headers) = to_record(&site(), &message, None);
        assert_eq!(
            from_record(&subject, None, b"{}"),
            Err(RecordError::MissingHeader(MESSAGE_ID_HEADER))
        );
        assert_eq!(
            from_record("edgeops.local.reduced.s1.what", Some(&headers), b"{}"),
            Err(RecordError::Subject("edgeops.local.reduced.s1.what".into()))
        );
        let mut odd = HeaderMap::new();
        odd.insert(MESSAGE_ID_HEADER, "no-sequence");
        odd.insert(HUB_SUBJECT_HEADER, "edgeops.readings.s1.room-1");
        assert_eq!(
            from_record(&subject, Some(&odd), b"{}"),
            Err(RecordError::MessageId("no-sequence".into()))
        );
    }
}
