//! Applies a policy to one device's readings, in order.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use edgeops_contracts::Reading;

use super::aggregate::{Accumulator, WindowAggregate, window_of};
use super::policy::ReductionPolicy;

/// Why a reading travels (the strongest reason wins; each is a superset of the next).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ForwardKind {
    /// Some metrics changed beyond their band (only those travel).
    Change,
    /// A training sample: every (non-local) metric travels.
    Sample,
    /// Outside an alert band: every (non-local) metric travels.
    Anomaly,
}

/// What one raw reading produces.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reduced {
    /// The reading to forward (only the metrics that travel), if any.
    pub forward: Option<(ForwardKind, Reading)>,
    /// Aggregates of windows this reading closed.
    pub aggregates: Vec<WindowAggregate>,
}

/// Per-device state: last forwarded value and time per metric, windows in progress.
#[derive(Debug, Clone, Default)]
pub struct Reducer {
    last_forwarded: BTreeMap<String, (f64, DateTime<Utc>)>,
    windows: BTreeMap<String, Accumulator>,
    seen: u64,
}

impl Reducer {
    pub fn offer(&mut self, policy: &ReductionPolicy, reading: &Reading) -> Reduced {
        self.seen += 1;
        let aggregates = self.aggregate(policy, reading);
        let travelling: BTreeMap<&String, f64> = reading
            .metrics
            .iter()
            .filter(|(key, _)| !policy.local_only.contains(*key))
            .map(|(k, v)| (k, *v))
            .collect();
        let anomaly = travelling
            .iter()
            .any(|(key, value)| policy.rule(key).is_anomalous(*value));
        let sample =
            policy.sample_one_in > 0 && (self.seen - 1).is_multiple_of(policy.sample_one_in);
        let changed: Vec<&String> = travelling
            .iter()
            .filter(|(key, value)| self.moved(policy, key, **value, reading.ts))
            .map(|(key, _)| *key)
            .collect();
        let (kind, keys): (ForwardKind, Vec<&String>) = if anomaly {
            (ForwardKind::Anomaly, travelling.keys().copied().collect())
        } else if sample {
            (ForwardKind::Sample, travelling.keys().copied().collect())
        } else if !changed.is_empty() {
            (ForwardKind::Change, changed)
        } else {
            self.mark_held_back(&travelling, &[]);
            return Reduced {
                forward: None,
                aggregates,
            };
        };
        self.mark_held_back(&travelling, &keys);
        let mut forwarded = reading.clone();
        forwarded.metrics.retain(|key, _| keys.contains(&key));
        for (key, value) in &forwarded.metrics {
            self.last_forwarded
                .insert(key.clone(), (*value, reading.ts));
        }
        Reduced {
            forward: Some((kind, forwarded)),
            aggregates,
        }
    }

    /// Notes, in each metric's current window, the values that do not travel.
    fn mark_held_back(&mut self, travelling: &BTreeMap<&String, f64>, sent: &[&String]) {
        for key in travelling.keys() {
            if !sent.contains(key)
                && let Some(acc) = self.windows.get_mut(key.as_str())
            {
                acc.hold_back();
            }
        }
    }

    /// Whether `value` must travel: first value, moved beyond the band, or heartbeat due.
    fn moved(&self, policy: &ReductionPolicy, key: &str, value: f64, ts: DateTime<Utc>) -> bool {
        let rule = policy.rule(key);
        match self.last_forwarded.get(key) {
            None => true,
            Some((last, at)) => {
                let band = if rule.relative_band > 0.0 {
                    rule.dead_band.max(rule.relative_band * last.abs())
                } else {
                    rule.dead_band
                };
                (value - last).abs() > band || (ts - *at).num_seconds() >= rule.heartbeat_secs
            }
        }
    }

    fn aggregate(&mut self, policy: &ReductionPolicy, reading: &Reading) -> Vec<WindowAggregate> {
        if policy.window_secs <= 0 {
            return Vec::new();
        }
        let window = window_of(reading.ts, policy.window_secs);
        let mut closed = Vec::new();
        for (key, value) in &reading.metrics {
            if policy.local_only.contains(key) {
                continue;
            }
            match self.windows.get_mut(key) {
                Some(acc) if acc.window_start() == window => acc.add(*value),
                Some(acc) if acc.window_start() < window => {
                    if acc.worth_sending(policy.aggregate_min_count) {
                        closed.push(acc.finish(key, policy.window_secs));
                    }
                    *acc = Accumulator::new(window, *value);
                }
                // A late reading for an already closed window: counted in the raw stream only.
                Some(_) => {}
                None => {
                    self.windows
                        .insert(key.clone(), Accumulator::new(window, *value));
                }
            }
        }
        closed
    }
}

#[cfg(test)]
mod tests;
