//! What the reduction stage keeps at the site in `REDUCED_LOCAL`: one message per reduced batch
//! (a *record*), holding the hub messages the policy planned for the batch's raw readings, in
//! order. The forwarder sends them and the inference feed forecasts from their readings, so both
//! read the same decisions, made once. One local message per batch, not per reading: a site that
//! forwards everything writes its local JetStream once more per batch, not once more per reading.
//!
//! The record's `Nats-Msg-Id` is `<site>:<last raw sequence of the batch>`: the local stream
//! stores a retried batch once, and a restarted stage resumes after the raw sequence its last
//! record names.

use async_nats::HeaderMap;
use edgeops_contracts::{Reading, ReadingLimits, SiteId};

use super::plan::{Body, Outgoing};

/// JetStream's de-duplication header.
pub const MESSAGE_ID_HEADER: &str = "Nats-Msg-Id";
/// A sensor's trace context travels with its batch to the hub.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// Raw bytes after which the stage closes a batch, whatever its count: a record then stays far
/// below the leaf's 1 MiB message limit (a planned message is at most its reading's 16 KiB, or a
/// dead letter's 128 KiB of payload, plus its subject and id).
pub const MAX_BATCH_RAW_BYTES: usize = 384 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("encoding a reduced record: {0}")]
    Encode(#[source] postcard::Error),
    #[error("a reduced record that does not decode: {0}")]
    Decode(#[source] postcard::Error),
}

/// The id of the record of a batch that ends at raw sequence `last_raw`.
pub fn message_id(site: &SiteId, last_raw: u64) -> String {
    format!("{site}:{last_raw}")
}

/// The payload and headers of the record of a batch ending at raw sequence `last_raw`;
/// `traceparent` is the first one a raw reading of the batch carried.
pub fn encode(
    site: &SiteId,
    planned: &[Outgoing],
    last_raw: u64,
    traceparent: Option<&str>,
) -> Result<(Vec<u8>, HeaderMap), RecordError> {
    let payload = postcard::to_stdvec(planned).map_err(RecordError::Encode)?;
    let mut headers = HeaderMap::new();
    headers.insert(MESSAGE_ID_HEADER, message_id(site, last_raw).as_str());
    if let Some(context) = traceparent {
        headers.insert(TRACEPARENT_HEADER, context);
    }
    Ok((payload, headers))
}

/// The hub messages a record holds, in planned order.
pub fn decode(payload: &[u8]) -> Result<Vec<Outgoing>, RecordError> {
    postcard::from_bytes(payload).map_err(RecordError::Decode)
}

/// The reading a planned `Reading` message carries, as ingest will read it at the hub: the
/// metrics that travelled, at the reading's time. `None` for any other message, or one the hub
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
    use crate::reduction::{ReductionPolicy, SitePlanner, sequence_of_message_id};

    fn site() -> SiteId {
        SiteId::parse("s1").unwrap()
    }

    fn planned(planner: &mut SitePlanner, sequence: u64, payload: &str) -> Vec<Outgoing> {
        planner.plan(
            &ReductionPolicy::fleet_default(),
            &site(),
            sequence,
            "edgeops.raw.s1.room-1",
            payload.as_bytes(),
            chrono::Utc::now(),
        )
    }

    #[test]
    fn every_planned_message_survives_its_record_in_order() {
        let mut planner = SitePlanner::default();
        let reading =
            r#"{"ts":"2026-01-01T00:00:00Z","metrics":{"co2_ppm":612.5,"temperature_c":21}}"#;
        let mut batch = planned(&mut planner, 7, reading);
        batch.extend(planned(&mut planner, 8, "[1,2]"));
        batch.extend(planned(
            &mut planner,
            9,
            r#"{"ts":"yesterday","metrics":{}}"#,
        ));
        let bodies: Vec<Body> = batch.iter().map(|o| o.body).collect();
        assert_eq!(bodies, [Body::Reading, Body::DeadLetter, Body::Unchecked]);

        let (payload, headers) = encode(&site(), &batch, 12, Some("00-abc-def-01")).unwrap();
        assert_eq!(decode(&payload).unwrap(), batch);
        let id = headers.get(MESSAGE_ID_HEADER).unwrap().as_str();
        assert_eq!(
            sequence_of_message_id(id),
            Some(12),
            "the batch's last raw sequence"
        );
        assert_eq!(
            headers.get(TRACEPARENT_HEADER).map(|v| v.as_str()),
            Some("00-abc-def-01")
        );
    }

    #[test]
    fn a_reduced_reading_reads_back_as_the_hub_will_read_it() {
        let reading =
            r#"{"ts":"2026-01-01T00:00:00Z","metrics":{"co2_ppm":612.5,"temperature_c":21}}"#;
        let outgoing = planned(&mut SitePlanner::default(), 1, reading);
        let read = reading_of(&outgoing[0], chrono::Utc::now(), &ReadingLimits::default())
            .expect("a reading");
        assert_eq!(read.device.as_str(), "room-1");
        assert_eq!(read.metrics["co2_ppm"], 612.5);
        assert_eq!(read.metrics["temperature_c"], 21.0);
    }

    #[test]
    fn a_record_that_is_not_one_is_refused_with_the_reason() {
        let err = decode(br#"{"not":"a record"}"#).unwrap_err();
        assert!(err.to_string().contains("does not decode"), "{err}");
    }
}
