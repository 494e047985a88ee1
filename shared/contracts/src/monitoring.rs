//! What monitoring reads and says.
//!
//! - [`FeatureReference`]: a feature's distribution in the training rows (its deciles and
//!   range), recorded by the training run in its report and in the signed manifest, so a
//!   gateway and monitoring compare live inputs against exactly what the model was fitted on.
//! - [`WindowSummary`]: what a gateway computes per device and window of target time from every
//!   raw reading and every forecast it made, and sends upstream store-and-forward
//!   (`edgeops.local.summaries.<site>.<device>` at the site, `edgeops.summaries.<site>.<device>`
//!   at the hub). Monitoring judges a site on these, not on the reduced readings the hub holds.
//! - [`MonitorEvent`]: monitoring's incidents (`edgeops.events.monitor.<scope>`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{DeviceId, SiteId};

/// Length of a summary window by default: one hour of target time. A gateway may use longer
/// windows (whole hours dividing a day, see [`is_window_length`]) for slow sensors.
pub const WINDOW_SECS: u32 = 3_600;

/// Whether `secs` is a summary window's length: whole hours that divide a day.
pub fn is_window_length(secs: u32) -> bool {
    secs > 0 && secs.is_multiple_of(WINDOW_SECS) && 86_400u32.is_multiple_of(secs)
}

/// Quantile cut points a reference records per feature: the deciles (9 interior edges, so 10
/// bins of 10 % of the training rows each).
pub const REFERENCE_QUANTILES: usize = 10;

/// One feature's distribution in the training rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureReference {
    pub name: String,
    /// Interior quantile cut points, ascending (at most `REFERENCE_QUANTILES - 1`; equal
    /// quantiles of a feature with few distinct values are merged). Bin `i` holds the values
    /// `edges[i-1] < x <= edges[i]`; the first bin everything up to `edges[0]`, the last
    /// everything above the last edge.
    pub edges: Vec<f64>,
    /// Share of the training rows in each bin (`edges.len() + 1` shares, summing to 1).
    pub shares: Vec<f64>,
    /// The training range: a live value outside it is an input the model never saw.
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub std: f64,
    /// Training rows the reference was computed from.
    pub rows: u64,
}

impl FeatureReference {
    /// The bin of `value` (see [`FeatureReference::edges`]).
    pub fn bin_of(&self, value: f64) -> usize {
        self.edges.partition_point(|edge| *edge < value)
    }
}

/// The forecast error of one model version over one window, paired like the rollout gate
/// (`edgeops_evaluation`): each judged forecast's squared error (`c`) beside persistence's at
/// the same origin and horizon (`b`), summed so windows add up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PairedErrorSums {
    /// Forecasts judged (their actual known).
    pub judged: u64,
    /// Forecasts that cannot be judged (off the bins, no value for origin or target).
    pub unusable: u64,
    pub sum_c: f64,
    pub sum_b: f64,
    /// Sum of `(c - b)²`: the spread of the paired difference.
    pub sum_d_sq: f64,
}

impl PairedErrorSums {
    pub fn add(&mut self, other: &PairedErrorSums) {
        self.judged += other.judged;
        self.unusable += other.unusable;
        self.sum_c += other.sum_c;
        self.sum_b += other.sum_b;
        self.sum_d_sq += other.sum_d_sq;
    }

    pub fn candidate_mse(&self) -> Option<f64> {
        (self.judged > 0).then(|| self.sum_c / self.judged as f64)
    }

    pub fn baseline_mse(&self) -> Option<f64> {
        (self.judged > 0).then(|| self.sum_b / self.judged as f64)
    }

    /// Skill vs persistence: `1 - mse(model) / mse(persistence)` (positive is better than
    /// persistence); `None` without judged forecasts or when persistence was exact.
    pub fn skill(&self) -> Option<f64> {
        let (c, b) = (self.candidate_mse()?, self.baseline_mse()?);
        (b > 0.0).then(|| 1.0 - c / b)
    }
}

/// The model version whose forecasts a window's error is of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelWindow {
    pub model: String,
    pub version: u32,
    /// The forecast metric and horizon.
    pub metric: String,
    pub horizon_bins: u32,
    pub error: PairedErrorSums,
}

/// One feature's live values over a window, counted on its reference's bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureWindow {
    pub name: String,
    /// Values per reference bin (`edges.len() + 1` counts).
    pub counts: Vec<u64>,
    /// Values below the training minimum and above the training maximum.
    pub below_range: u64,
    pub above_range: u64,
    pub sum: f64,
    pub sum_sq: f64,
}

impl FeatureWindow {
    pub fn values(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// What a gateway says of one device and one window of target time, once the window's last
/// forecast could be judged (the site's own latest reading is past the window's end by a bin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSummary {
    pub site: SiteId,
    pub device: DeviceId,
    pub window_start: DateTime<Utc>,
    pub window_secs: u32,
    /// Raw readings of the device timed in the window, and the last one's time.
    pub readings: u64,
    pub last_reading_at: Option<DateTime<Utc>>,
    /// Metrics whose every reading in the window had the same value (at least
    /// [`STUCK_MIN_READINGS`] readings): a stuck sensor.
    #[serde(default)]
    pub stuck_metrics: Vec<String>,
    /// The error of each model version that forecast targets in the window.
    #[serde(default)]
    pub models: Vec<ModelWindow>,
    /// The live inputs of the serving model (its feature rows made in the window), per feature.
    #[serde(default)]
    pub features: Vec<FeatureWindow>,
    /// The model version whose inputs and reference `features` are (the version of the
    /// window's latest feature row).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features_of: Option<ModelVersionRef>,
}

/// A model version by name and number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelVersionRef {
    pub model: String,
    pub version: u32,
}

/// Readings of unchanged value a metric needs within a window to be called stuck.
pub const STUCK_MIN_READINGS: u64 = 30;

/// Longest summary a gateway sends (bytes of JSON); monitoring dead-letters a longer one.
pub const MAX_SUMMARY_BYTES: usize = 64 * 1024;

impl WindowSummary {
    pub fn window_end(&self) -> DateTime<Utc> {
        self.window_start + chrono::Duration::seconds(i64::from(self.window_secs))
    }

    /// The natural key monitoring stores a summary under: a resent summary replaces itself.
    pub fn message_id(&self) -> String {
        format!(
            "{}:{}:{}",
            self.site,
            self.device,
            self.window_start.timestamp()
        )
    }
}

/// What monitoring raises about, and what ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    DriftDetected,
    PerformanceDegraded,
    DeviceSilent,
    SiteOffline,
    /// A stuck sensor, or a jump in dead letters of one reason.
    DataQuality,
}

impl IncidentKind {
    /// The envelope type of the event that opens an incident of this kind.
    pub fn event_type(self) -> &'static str {
        match self {
            IncidentKind::DriftDetected => "monitoring.drift_detected",
            IncidentKind::PerformanceDegraded => "monitoring.performance_degraded",
            IncidentKind::DeviceSilent => "monitoring.device_silent",
            IncidentKind::SiteOffline => "monitoring.site_offline",
            IncidentKind::DataQuality => "monitoring.data_quality",
        }
    }
}

/// The event type that closes any incident.
pub const RECOVERED: &str = "monitoring.recovered";

/// The evidence an incident is opened or closed on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// What was measured ("psi", "wasserstein", "page_hinkley", "skill", "silence_secs", ...).
    pub statistic: String,
    pub value: f64,
    pub threshold: f64,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// Sample sizes: live values (or judged forecasts) and the reference's rows.
    pub samples: u64,
    pub reference_samples: u64,
    /// The reference compared against (a model version, a training run, a feature).
    pub reference: String,
    /// For drift: the features that moved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
}

/// Aggregate kind of monitoring's incidents: one instance per scope and kind of incident,
/// `edgeops.events.monitor.<scope>.<kind>`.
pub const INCIDENT_AGGREGATE: &str = "monitor";

/// An incident opened (`monitoring.performance_degraded`, `monitoring.device_silent`,
/// `monitoring.site_offline`; a drift carries it inside [`crate::training::DriftDetected`],
/// which training reads to retrain).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentOpened {
    pub incident: uuid::Uuid,
    pub kind: IncidentKind,
    /// The scope's key (`device.s1.room-1.co2-room.v3`, `site.s1`).
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<SiteId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// When it was seen: the end of the window it was judged on (or the hub's clock for a site
    /// gone quiet).
    pub at: DateTime<Utc>,
    pub evidence: Vec<Evidence>,
}

/// An incident closed (`monitoring.recovered`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecovered {
    pub incident: uuid::Uuid,
    pub kind: IncidentKind,
    pub scope: String,
    pub at: DateTime<Utc>,
    pub evidence: Vec<Evidence>,
}
