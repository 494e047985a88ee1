//! What a site's gateway would send to the hub for a stream of readings: the readings go through
//! the same `SitePlanner` the forwarder uses, in forwarder batches of a given size, and each
//! batch is packed as the forwarder packs it; nothing is published. Bytes are counted the
//! way the forwarder's `ForwarderStats` counts them, so the ratio is the one the demo and the
//! gateway's metrics report.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use edgeops_contracts::SiteId;
use edgeops_edge_gateway::reduction::{
    Body, Outgoing, PackLimits, ReductionPolicy, SitePlanner, pack,
};
use serde::Serialize;
use serde_json::Value;

/// Counts of one dry run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ByteReport {
    pub raw_readings: u64,
    pub raw_bytes: u64,
    /// Reduced readings sent to the hub.
    pub forwarded_readings: u64,
    /// Hub messages (each a pack of one device's readings, or of its aggregates, per batch).
    pub forwarded_messages: u64,
    /// Of them, window-aggregate messages.
    pub aggregate_messages: u64,
    /// Every byte sent to the hub: payloads of the packed readings and aggregates, plus each
    /// message's de-duplication header.
    pub forwarded_bytes: u64,
    /// Of `forwarded_bytes`, the aggregates' share.
    pub aggregate_bytes: u64,
    /// Forwarded readings by why they travelled (`change`, `sample`, `anomaly`).
    pub forwarded_by_kind: BTreeMap<String, u64>,
    /// The selected readings' and aggregates' JSON text before packing and compression.
    pub selected_bytes: u64,
    /// Of `selected_bytes`, an attribution to metrics: a metric's `"key":value` in forwarded
    /// readings plus its entries in aggregates. What is left is framing (`ts`, `kind`, braces).
    /// Compressed bytes cannot be attributed, so this says what the policy selects, not what
    /// each metric costs on the uplink.
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
/// validating timestamps against `now`, and packs what it selects per forwarder batch of
/// `forward_batch` raw readings (1: every reading travels alone, as on a live site whose
/// readings trickle in; larger: as when readings queue up, on a busy site or after an outage).
pub fn measure(
    policy: &ReductionPolicy,
    site: &SiteId,
    readings: impl IntoIterator<Item = (String, String)>,
    now: DateTime<Utc>,
    forward_batch: usize,
) -> ByteReport {
    let forward_batch = forward_batch.max(1) as u64;
    let mut planner = SitePlanner::default();
    let mut report = ByteReport::default();
    let mut batch: Vec<Outgoing> = Vec::new();
    for (sequence, (subject, payload)) in (1u64..).zip(readings) {
        report.raw_readings += 1;
        report.raw_bytes += payload.len() as u64;
        batch.extend(planner.plan(policy, site, sequence, &subject, payload.as_bytes(), now));
        if sequence % forward_batch == 0 {
            report.count_batch(std::mem::take(&mut batch));
        }
    }
    report.count_batch(batch);
    report
}

impl ByteReport {
    /// Counts one forwarder batch: what it planned, then the packed messages it sends.
    fn count_batch(&mut self, planned: Vec<Outgoing>) {
        for message in &planned {
            self.selected_bytes += message.payload.len() as u64;
            if message.body == Body::Aggregates {
                self.count_aggregates(&message.payload);
            } else {
                self.count_reading(&message.payload);
            }
        }
        for message in pack(planned, PackLimits::default()) {
            let bytes = message.wire_bytes() as u64;
            self.forwarded_messages += 1;
            self.forwarded_bytes += bytes;
            if message.body == Body::Aggregates {
                self.aggregate_messages += 1;
                self.aggregate_bytes += bytes;
            }
        }
    }
}
