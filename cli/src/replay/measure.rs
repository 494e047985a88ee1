//! What a site's gateway would send to the hub for a stream of readings: the readings go through
//! the same `SitePlanner` the forwarder uses, nothing is published. Bytes are payload bytes,
//! counted the way the forwarder's `ForwarderStats` counts them, so the ratio is the one the
//! demo and the gateway's metrics report.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use edgeops_contracts::{SiteId, subjects};
use edgeops_edge_gateway::reduction::{ReductionPolicy, SitePlanner};
use serde::Serialize;
use serde_json::Value;

/// Counts of one dry run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ByteReport {
    pub raw_readings: u64,
    pub raw_bytes: u64,
    /// Reduced readings sent to the hub.
    pub forwarded_readings: u64,
    /// Window-aggregate messages sent to the hub (each holds the windows one reading closed).
    pub aggregate_messages: u64,
    /// Every byte sent to the hub: reduced readings plus aggregates.
    pub forwarded_bytes: u64,
    /// Of `forwarded_bytes`, the aggregates' share.
    pub aggregate_bytes: u64,
    /// Forwarded readings by why they travelled (`change`, `sample`, `anomaly`).
    pub forwarded_by_kind: BTreeMap<String, u64>,
    /// Of `forwarded_bytes`, an attribution to metrics: a metric's `"key":value` in forwarded
    /// readings plus its entries in aggregates. What is left is framing (`ts`, `kind`, braces).
    pub bytes_by_metric: BTreeMap<String, u64>,
}

impl ByteReport {
    /// Bytes sent to the hub per raw byte (0 for no input).
    pub fn byte_ratio(&self) -> f64 {
        if self.raw_bytes == 0 {
            0.0
        } else {
            self.forwarded_bytes as f64 / self.raw_bytes as f64
        }
    }

    fn count_reading(&mut self, payload: &[u8]) {
        self.forwarded_readings += 1;
        let Ok(Value::Object(reading)) = serde_json::from_slice::<Value>(payload) else {
            return;
        };
        // A plain change carries no `kind` (see the gateway's forward payload).
        let kind = match reading.get("kind") {
            Some(Value::String(kind)) => kind.clone(),
            _ => "change".to_owned(),
        };
        *self.forwarded_by_kind.entry(kind).or_default() += 1;
        if let Some(Value::Object(metrics)) = reading.get("metrics") {
            for (key, value) in metrics {
                // "key":value plus its comma.
                let bytes = key.len() + 3 + value.to_string().len() + 1;
                *self.bytes_by_metric.entry(key.clone()).or_default() += bytes as u64;
            }
        }
    }

    fn count_aggregates(&mut self, payload: &[u8]) {
        self.aggregate_messages += 1;
        self.aggregate_bytes += payload.len() as u64;
        let Ok(Value::Array(windows)) = serde_json::from_slice::<Value>(payload) else {
            return;
        };
        for window in windows {
            if let Some(Value::String(metric)) = window.get("metric") {
                let bytes = window.to_string().len() + 1;
                *self.bytes_by_metric.entry(metric.clone()).or_default() += bytes as u64;
            }
        }
    }
}

/// Plans every reading, in order, as the site's gateway would (local sequence numbers from 1),
/// validating timestamps against `now`.
pub fn measure(
    policy: &ReductionPolicy,
    site: &SiteId,
    readings: impl IntoIterator<Item = (String, String)>,
    now: DateTime<Utc>,
) -> ByteReport {
    let mut planner = SitePlanner::default();
    let mut report = ByteReport::default();
    for (sequence, (subject, payload)) in (1u64..).zip(readings) {
        report.raw_readings += 1;
        report.raw_bytes += payload.len() as u64;
        let outgoing = planner.plan(
            policy,
            site.as_str(),
            sequence,
            &subject,
            payload.as_bytes(),
            now,
        );
        for message in outgoing {
            report.forwarded_bytes += message.wire_bytes() as u64;
            if subjects::parse_aggregate_subject(&message.subject).is_some() {
                report.count_aggregates(&message.payload);
            } else {
                report.count_reading(&message.payload);
            }
        }
    }
    report
}
