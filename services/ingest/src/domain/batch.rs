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

/// The verdict on each message of a batch, by index. A message carrying several readings can
/// have rows to write *and* a refusal (its bad readings): the good ones are written, and the
/// whole message is dead-lettered with the reason (replaying it later writes nothing twice).
#[derive(Debug, Default)]
pub struct Sorted {
    pub rows: Vec<(usize, Row)>,
    pub refused: Vec<(usize, Rejection)>,
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
        if let Some(rejection) = summarise(refusals, carried) {
            sorted.refused.push((index, rejection));
        }
    }
    sorted
}

/// One rejection for a message: its only reading's, or the first bad reading's, located.
fn summarise(refusals: Vec<(usize, Rejection)>, carried: usize) -> Option<Rejection> {
    let count = refusals.len();
    let (position, first) = refusals.into_iter().next()?;
    if carried == 1 {
        return Some(first);
    }
    let more = match count {
        1 => String::new(),
        n => format!("; {} more of its readings refused", n - 1),
    };
    Some(Rejection::new(
        first.code,
        format!(
            "reading {} of {carried}: {}{more}",
            position + 1,
            first.detail
        ),
    ))
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
        let (index, rejection) = &sorted.refused[0];
        assert_eq!((*index, rejection.code), (0, RejectCode::NoMetrics));
        assert!(
            rejection.detail.starts_with("reading 2 of 3: "),
            "{}",
            rejection.detail
        );
        assert_eq!(sorted.refused_readings, vec![RejectCode::NoMetrics]);
    }
}
