//! Sorting one pulled batch into rows to write and messages to refuse.

use chrono::{DateTime, Utc};
use edgeops_contracts::{Reading, ReadingLimits, RejectCode, Rejection, SiteId};

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

/// The verdict on each message of a batch, by index.
#[derive(Debug, Default)]
pub struct Sorted {
    pub rows: Vec<(usize, Row)>,
    pub refused: Vec<(usize, Rejection)>,
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
        match Reading::from_message(message.subject, message.payload, now, limits) {
            Ok(reading) if is_known_site(&reading.site) => sorted.rows.push((
                index,
                Row {
                    reading,
                    hub_sequence: message.stream_sequence,
                },
            )),
            Ok(reading) => sorted.refused.push((
                index,
                Rejection::new(
                    RejectCode::UnknownSite,
                    format!("site {} is not registered", reading.site),
                ),
            )),
            Err(rejection) => sorted.refused.push((index, rejection)),
        }
    }
    sorted
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
        let codes: Vec<_> = sorted.refused.iter().map(|(i, r)| (*i, r.code)).collect();
        assert_eq!(
            codes,
            vec![(1, RejectCode::UnknownSite), (2, RejectCode::InvalidJson)]
        );
    }
}
