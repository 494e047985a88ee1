//! Sorting one pulled batch into rows to write and messages to refuse.

use chrono::{DateTime, Utc};
use edgeops_bus::RefusedReading;
use edgeops_contracts::compression::decompressed;
use edgeops_contracts::subjects::parse_reading_subject;
use edgeops_contracts::{Reading, ReadingLimits, RejectCode, Rejection, SiteId};
use serde_json::value::RawValue;

/// A message as ingest sees it: where it is in the hub stream and what it says.
pub struct Incoming<'a> {
    pub subject: &'a str,
    pub payload: &'a [u8],
    pub stream_sequence: u64,
}

/// A reading accepted for writing, remembering its hub stream sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub reading: Reading,
    pub hub_sequence: u64,
}

/// Why a message, or some readings of it, are refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The message as a whole: a single reading, or a pack unusable as a whole (not JSON, a
    /// wrong subject, a corrupt frame).
    Message(Rejection),
    /// Some readings of a pack, each with its own JSON and position (the rest are rows).
    Readings(Vec<RefusedReading>),
}

impl Refusal {
    /// The first reason, for counting and logs.
    pub fn first_code(&self) -> Option<RejectCode> {
        match self {
            Self::Message(rejection) => Some(rejection.code),
            Self::Readings(readings) => readings.first().map(|r| r.rejection.code),
        }
    }
}

/// The verdict on each message of a batch, by index. A message carrying several readings can
/// have rows to write *and* refused readings: the good ones are written, and each bad one is
/// dead-lettered alone, as its own JSON, so an operator can read it and publish it again.
#[derive(Debug, Default)]
pub struct Sorted {
    pub rows: Vec<(usize, Row)>,
    pub refused: Vec<(usize, Refusal)>,
    /// Readings refused, per reason code (a message may hold several).
    pub refused_readings: Vec<RejectCode>,
}

/// Validates every message; `is_known_site` decides the one rule that needs the fleet's state.
pub fn sort_batch<'a>(
    messages: impl IntoIterator<Item = Incoming<'a>>,
    now: DateTime<Utc>,
    limits: &ReadingLimits,
    is_known_site: impl Fn(&SiteId) -> bool,
) -> Sorted {
    let mut sorted = Sorted::default();
    for (index, message) in messages.into_iter().enumerate() {
        let verdicts = Reading::all_from_message(message.subject, message.payload, now, limits);
        let carried = verdicts.len();
        let mut refusals = Vec::new();
        for (position, verdict) in verdicts.into_iter().enumerate() {
            match verdict {
                Ok(reading) if is_known_site(&reading.site) => sorted.rows.push((
                    index,
                    Row {
                        reading,
                        hub_sequence: message.stream_sequence,
                    },
                )),
                Ok(reading) => refusals.push((
                    position,
                    Rejection::new(
                        RejectCode::UnknownSite,
                        format!("site {} is not registered", reading.site),
                    ),
                )),
                Err(rejection) => refusals.push((position, rejection)),
            }
        }
        sorted
            .refused_readings
            .extend(refusals.iter().map(|(_, r)| r.code));
        if let Some(refusal) =
            refusal_of(refusals, message.subject, message.payload, carried, limits)
        {
            sorted.refused.push((index, refusal));
        }
    }
    sorted
}

/// What to dead-letter for one message: each refused reading alone when the message is a pack
/// whose readings were judged one by one, else the message with its (first) reason.
fn refusal_of(
    refusals: Vec<(usize, Rejection)>,
    subject: &str,
    payload: &[u8],
    carried: usize,
    limits: &ReadingLimits,
) -> Option<Refusal> {
    if refusals.is_empty() {
        return None;
    }
    let elements = pack_elements(subject, payload, limits).filter(|e| e.len() == carried);
    let Some(elements) = elements else {
        return refusals
            .into_iter()
            .next()
            .map(|(_, rejection)| Refusal::Message(rejection));
    };
    let readings = refusals
        .into_iter()
        .map(|(position, rejection)| RefusedReading {
            pack_index: position,
            payload: elements
                .get(position)
                .map(|raw| raw.get().as_bytes().to_vec())
                .unwrap_or_default(),
            rejection: Rejection::new(
                rejection.code,
                format!(
                    "reading {} of {carried}: {}",
                    position + 1,
                    rejection.detail
                ),
            ),
        })
        .collect();
    Some(Refusal::Readings(readings))
}

/// The readings of a pack (a JSON array, maybe compressed) as their own JSON texts, exactly as
/// they were sent; `None` when the message is not a pack whose readings were judged one by one
/// (not an array, or refused as a whole: a bad subject, too large, too many readings).
fn pack_elements(
    subject: &str,
    payload: &[u8],
    limits: &ReadingLimits,
) -> Option<Vec<Box<RawValue>>> {
    parse_reading_subject(subject)?;
    let text = decompressed(payload, limits.max_batch_payload_bytes).ok()?;
    if !text.trim_ascii_start().starts_with(b"[") || text.len() > limits.max_batch_payload_bytes {
        return None;
    }
    let elements: Vec<Box<RawValue>> = serde_json::from_slice(&text).ok()?;
    (1..=limits.max_batch_readings)
        .contains(&elements.len())
        .then_some(elements)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_good_rows_and_names_each_refusal() {
        let now = Utc::now();
        let ts = now.to_rfc3339();
        let good = format!(r#"{{"ts":"{ts}","metrics":{{"co2_ppm":500}}}}"#);
        let messages = [
            Incoming {
                subject: "edgeops.readings.s1.d1",
                payload: good.as_bytes(),
                stream_sequence: 7,
            },
            Incoming {
                subject: "edgeops.readings.s9.d1",
                payload: good.as_bytes(),
                stream_sequence: 8,
            },
            Incoming {
                subject: "edgeops.readings.s1.d1",
                payload: b"nope",
                stream_sequence: 9,
            },
        ];
        let known = SiteId::parse("s1").unwrap();
        let sorted = sort_batch(messages, now, &ReadingLimits::default(), |site| {
            *site == known
        });
        assert_eq!(sorted.rows.len(), 1);
        assert_eq!(sorted.rows[0].0, 0);
        assert_eq!(sorted.rows[0].1.hub_sequence, 7);
        let codes: Vec<_> = sorted
            .refused
            .iter()
            .map(|(i, r)| (*i, r.first_code().unwrap()))
            .collect();
        assert_eq!(
            codes,
            vec![(1, RejectCode::UnknownSite), (2, RejectCode::InvalidJson)]
        );
    }

    #[test]
    fn a_packed_message_writes_its_good_readings_and_names_its_bad_ones() {
        let now = Utc::now();
        let ts = |minutes: i64| (now - chrono::Duration::minutes(minutes)).to_rfc3339();
        let packed = format!(
            r#"[{{"ts":"{}","metrics":{{"co2_ppm":500}}}},{{"ts":"{}","metrics":{{}}}},{{"ts":"{}","metrics":{{"co2_ppm":510}}}}]"#,
            ts(3),
            ts(2),
            ts(1)
        );
        let messages = [Incoming {
            subject: "edgeops.readings.s1.d1",
            payload: packed.as_bytes(),
            stream_sequence: 4,
        }];
        let sorted = sort_batch(messages, now, &ReadingLimits::default(), |_| true);
        let values: Vec<f64> = sorted
            .rows
            .iter()
            .map(|(i, row)| {
                assert_eq!((*i, row.hub_sequence), (0, 4));
                row.reading.metrics["co2_ppm"]
            })
            .collect();
        assert_eq!(values, vec![500.0, 510.0]);
        assert_eq!(sorted.refused.len(), 1);
        let (index, Refusal::Readings(readings)) = &sorted.refused[0] else {
            panic!(
                "a pack's bad reading is refused alone: {:?}",
                sorted.refused
            )
        };
        assert_eq!(*index, 0);
        assert_eq!(readings.len(), 1);
        let refused = &readings[0];
        assert_eq!(
            (refused.pack_index, refused.rejection.code),
            (1, RejectCode::NoMetrics)
        );
        assert!(
            refused.rejection.detail.starts_with("reading 2 of 3: "),
            "{}",
            refused.rejection.detail
        );
        assert_eq!(
            refused.payload,
            format!(r#"{{"ts":"{}","metrics":{{}}}}"#, ts(2)).into_bytes(),
            "the dead letter holds that reading's own JSON"
        );
        assert_eq!(sorted.refused_readings, vec![RejectCode::NoMetrics]);
    }

    #[test]
    fn a_compressed_packs_bad_reading_is_dead_lettered_as_its_decompressed_json() {
        let now = Utc::now();
        let ts = now.to_rfc3339();
        let good = format!(r#"{{"ts":"{ts}","metrics":{{"co2_ppm":500}}}}"#);
        let bad = format!(r#"{{"ts":"{ts}","metrics":{{"co2_ppm":-5000}}}}"#);
        let pack = format!("[{good},{good},{bad},{good}]");
        let frame = edgeops_contracts::compression::compress(pack.as_bytes());
        assert!(edgeops_contracts::compression::is_compressed(&frame));
        let messages = [Incoming {
            subject: "edgeops.readings.s1.d1",
            payload: &frame,
            stream_sequence: 9,
        }];
        let sorted = sort_batch(messages, now, &ReadingLimits::default(), |_| true);
        assert_eq!(sorted.rows.len(), 3);
        let [(0, Refusal::Readings(readings))] = sorted.refused.as_slice() else {
            panic!("{:?}", sorted.refused)
        };
        assert_eq!(readings[0].pack_index, 2);
        assert_eq!(readings[0].payload, bad.into_bytes());
        assert_eq!(readings[0].rejection.code, RejectCode::OutOfRange);
    }

    #[test]
    fn a_pack_unusable_as_a_whole_is_refused_as_one_message() {
        let messages = [Incoming {
            subject: "edgeops.readings.s1",
            payload: br#"[{"ts":"2026-01-01T00:00:00Z","metrics":{"co2_ppm":1}}]"#,
            stream_sequence: 1,
        }];
        let sorted = sort_batch(messages, Utc::now(), &ReadingLimits::default(), |_| true);
        assert!(matches!(
            sorted.refused.as_slice(),
            [(0, Refusal::Message(r))] if r.code == RejectCode::InvalidSubject
        ));
    }
}
