//! The declarative policy, as an operator writes it (JSON, one file per site).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// How one metric is reduced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricRule {
    /// Forward only when the value moved more than this since the last forwarded value.
    #[serde(default)]
    pub dead_band: f64,
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

fn default_heartbeat() -> i64 {
    3600
}

impl Default for MetricRule {
    fn default() -> Self {
        Self {
            dead_band: 0.0,
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
            sample_one_in: 0,
        }
    }

    /// The default for indoor-air rooms: bands at about twice a typical sensor's noise,
    /// alerts at the levels ventilation guidance uses, hourly aggregates, 1 % samples.
    pub fn indoor_air_default() -> Self {
        let rule = |dead_band, alert_below, alert_above| MetricRule {
            dead_band,
            heartbeat_secs: 3600,
            alert_below,
            alert_above,
        };
        Self {
            metrics: BTreeMap::from([
                ("co2_ppm".to_owned(), rule(50.0, None, Some(1500.0))),
                ("temperature_c".to_owned(), rule(0.5, Some(5.0), Some(35.0))),
                ("humidity_pct".to_owned(), rule(3.0, Some(15.0), Some(85.0))),
                ("pm25_ugm3".to_owned(), rule(10.0, None, Some(150.0))),
                ("occupancy_count".to_owned(), rule(0.5, None, None)),
            ]),
            default_rule: rule(1.0, None, None),
            local_only: BTreeSet::new(),
            window_secs: 3600,
            sample_one_in: 100,
        }
    }

    pub fn rule(&self, metric: &str) -> &MetricRule {
        self.metrics.get(metric).unwrap_or(&self.default_rule)
    }

    /// Reads a policy file; unknown fields are errors, so a typo is not silently ignored.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}
