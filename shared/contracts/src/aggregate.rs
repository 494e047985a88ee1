//! Window aggregates an edge gateway sends instead of every raw value: per device and metric,
//! min/max/mean/count over `[window_start, window_start + window_secs)`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::compression::decompressed;
use crate::dead_letter::{RejectCode, Rejection};
use crate::metric::{Lookup, MetricCatalog};
use crate::subjects::parse_aggregate_subject;
use crate::{DeviceId, SiteId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowAggregate {
    pub metric: String,
    pub window_start: DateTime<Utc>,
    pub window_secs: i64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub count: u64,
}

/// Largest aggregates message, once decompressed.
pub const MAX_AGGREGATES_BYTES: usize = 1024 * 1024;

/// Parses and validates one aggregates message (a JSON array, as text or as a zstd frame of
/// it) from `edgeops.aggregates.<site>.<device>`.
pub fn parse_aggregates(
    subject: &str,
    payload: &[u8],
) -> Result<(SiteId, DeviceId, Vec<WindowAggregate>), Rejection> {
    let (site, device) = parse_aggregate_subject(subject).ok_or_else(|| {
        Rejection::new(
            RejectCode::InvalidSubject,
            format!("{subject:?} is not an aggregates subject"),
        )
    })?;
    let payload = decompressed(payload, MAX_AGGREGATES_BYTES)?;
    let aggregates: Vec<WindowAggregate> = serde_json::from_slice(&payload)
        .map_err(|e| Rejection::new(RejectCode::InvalidJson, e.to_string()))?;
    for a in &aggregates {
        if !matches!(MetricCatalog.lookup(&a.metric), Lookup::Known(_)) {
            return Err(Rejection::new(RejectCode::UnknownMetric, a.metric.clone()));
        }
        let finite = [a.min, a.max, a.mean].iter().all(|v| v.is_finite());
        if !finite {
            return Err(Rejection::new(
                RejectCode::NotANumber,
                format!("{} window {}", a.metric, a.window_start),
            ));
        }
        if a.count == 0 || a.window_secs <= 0 || a.min > a.mean || a.mean > a.max {
            return Err(Rejection::new(
                RejectCode::OutOfRange,
                format!("{} window {} is inconsistent", a.metric, a.window_start),
            ));
        }
    }
    Ok((site, device, aggregates))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBJECT: &str = "edgeops.aggregates.s1.room-1";

    fn one(metric: &str, min: f64, mean: f64, max: f64, count: u64) -> String {
        format!(
            r#"[{{"metric":"{metric}","window_start":"2026-01-01T00:00:00Z","window_secs":3600,"min":{min},"max":{max},"mean":{mean},"count":{count}}}]"#
        )
    }

    #[test]
    fn a_consistent_summary_is_accepted() {
        let (site, device, aggregates) =
            parse_aggregates(SUBJECT, one("co2_ppm", 400.0, 500.0, 700.0, 60).as_bytes()).unwrap();
        assert_eq!(
            (site.as_str(), device.as_str(), aggregates.len()),
            ("s1", "room-1", 1)
        );
    }

    #[test]
    fn each_kind_of_bad_summary_is_refused_with_its_reason() {
        let cases = [
            (SUBJECT, "not json".to_owned(), RejectCode::InvalidJson),
            (
                "edgeops.aggregates.s1",
                one("co2_ppm", 1.0, 2.0, 3.0, 2),
                RejectCode::InvalidSubject,
            ),
            (
                SUBJECT,
                one("voltage_v", 1.0, 2.0, 3.0, 2),
                RejectCode::UnknownMetric,
            ),
            (
                SUBJECT,
                one("co2_ppm", 500.0, 400.0, 700.0, 2),
                RejectCode::OutOfRange,
            ),
            (
                SUBJECT,
                one("co2_ppm", 400.0, 500.0, 700.0, 0),
                RejectCode::OutOfRange,
            ),
        ];
        for (subject, payload, code) in cases {
            assert_eq!(
                parse_aggregates(subject, payload.as_bytes())
                    .unwrap_err()
                    .code,
                code,
                "{payload}"
            );
        }
    }
}
