//! The declarative policy, as an operator writes it (JSON, one file per site).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// How one metric is reduced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricRule {
    /// Forward only when the value moved more than this since the last forwarded value...
    #[serde(default)]
    pub dead_band: f64,
    /// ...or more than this fraction of that value, whichever is larger (one rule for a room of
    /// ten people and a car park of five hundred cars).
    #[serde(default)]
    pub relative_band: f64,
    /// Forward at least this often (seconds), so silence means a dead sensor, not a flat line.
    #[serde(default = "default_heartbeat")]
    pub heartbeat_secs: i64,
    /// Values below this are anomalies: the whole reading is forwarded.
    #[serde(default)]
    pub alert_below: Option<f64>,
    /// Values above this are anomalies: the whole reading is forwarded.
    #[serde(default)]
    pub alert_above: Option<f64>,
}

fn default_aggregate_min_count() -> u64 {
    4
}

fn default_heartbeat() -> i64 {
    3600
}

impl Default for MetricRule {
    fn default() -> Self {
        Self {
            dead_band: 0.0,
            relative_band: 0.0,
            heartbeat_secs: default_heartbeat(),
            alert_below: None,
            alert_above: None,
        }
    }
}

impl MetricRule {
    pub fn is_anomalous(&self, value: f64) -> bool {
        self.alert_below.is_some_and(|low| value < low)
            || self.alert_above.is_some_and(|high| value > high)
    }
}

/// A site's policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReductionPolicy {
    /// Rules by metric key; metrics not listed use `default_rule`.
    #[serde(default)]
    pub metrics: BTreeMap<String, MetricRule>,
    #[serde(default)]
    pub default_rule: MetricRule,
    /// Metric keys that never leave the site (e.g. occupancy in a ward).
    #[serde(default)]
    pub local_only: BTreeSet<String>,
    /// Window of the aggregates, in seconds (0: no aggregates).
    #[serde(default)]
    pub window_secs: i64,
    /// A window's aggregate is sent only if the window held at least this many samples (a
    /// summary of one or two values is larger than the values).
    #[serde(default = "default_aggregate_min_count")]
    pub aggregate_min_count: u64,
    /// Forward one raw reading in this many, whole, for training (0: none).
    #[serde(default)]
    pub sample_one_in: u64,
}

impl ReductionPolicy {
    /// Forwards every reading unchanged: what the foundation did before reduction existed.
    pub fn forward_all() -> Self {
        Self {
            metrics: BTreeMap::new(),
            default_rule: MetricRule {
                dead_band: -1.0,
                ..MetricRule::default()
            },
            local_only: BTreeSet::new(),
            window_secs: 0,
            aggregate_min_count: default_aggregate_min_count(),
            sample_one_in: 0,
        }
    }

    /// The default policy, for every metric of the catalogue. Bands sit at about twice what a
    /// typical sensor's noise or a forecast's resolution needs; a relative band covers counts of
    /// any size. Heartbeats every six hours (preprocessing holds a value that long). Alerts only where a level is alarming
    /// anywhere (CO2 ventilation guidance, hazardous PM2.5). Hourly aggregates summarise what the
    /// bands held back; 1 % of readings travel whole for training.
    pub fn fleet_default() -> Self {
        let rule = |dead_band, relative_band, heartbeat_secs, alert_above| MetricRule {
            dead_band,
            relative_band,
            heartbeat_secs,
            alert_below: None,
            alert_above,
        };
        const HOUR: i64 = 3600;
        // Well above any sampling interval we see (a minute to an hour); preprocessing holds a
        // value for as long (FeatureSpec::max_gap_bins), so silence beyond it means a dead sensor.
        const HEARTBEAT: i64 = 6 * HOUR;
        Self {
            metrics: BTreeMap::from([
                (
                    "co2_ppm".to_owned(),
                    rule(50.0, 0.0, HEARTBEAT, Some(2000.0)),
                ),
                ("temperature_c".to_owned(), rule(1.0, 0.0, HEARTBEAT, None)),
                ("humidity_pct".to_owned(), rule(3.0, 0.0, HEARTBEAT, None)),
                (
                    "pm25_ugm3".to_owned(),
                    rule(10.0, 0.25, HEARTBEAT, Some(250.0)),
                ),
                ("dew_point_c".to_owned(), rule(2.0, 0.0, HEARTBEAT, None)),
                ("pressure_hpa".to_owned(), rule(3.0, 0.0, HEARTBEAT, None)),
                ("wind_speed_ms".to_owned(), rule(5.0, 0.5, HEARTBEAT, None)),
                (
                    "occupancy_count".to_owned(),
                    rule(0.5, 0.2, HEARTBEAT, None),
                ),
                ("capacity_count".to_owned(), rule(0.5, 0.0, 24 * HOUR, None)),
            ]),
            default_rule: rule(1.0, 0.0, HEARTBEAT, None),
            local_only: BTreeSet::new(),
            window_secs: HOUR,
            aggregate_min_count: default_aggregate_min_count(),
            sample_one_in: 100,
        }
    }

    pub fn rule(&self, metric: &str) -> &MetricRule {
        self.metrics.get(metric).unwrap_or(&self.default_rule)
    }

    /// A policy by name (`default`, `forward-all`) or the path of a JSON policy file.
    pub fn load(name_or_path: &str) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        match name_or_path {
            "default" => Ok(Self::fleet_default()),
            "forward-all" => Ok(Self::forward_all()),
            path => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading policy file {path}"))?;
                Self::from_json(&text).with_context(|| format!("policy file {path}"))
            }
        }
    }

    /// Reads a policy file; unknown fields are errors, so a typo is not silently ignored.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}
