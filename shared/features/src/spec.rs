//! The feature specification: what goes into a row, in which order. Versioned: a model records
//! the version it was trained on, and rows of another version are never fed to it.

use serde::{Deserialize, Serialize};

/// How missing bins of at most `max_gap_bins` are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapFill {
    /// Straight line between the neighbours: for raw series with short dropouts.
    Linear,
    /// The last value: for series reduced by a dead-band at the edge, where no message means
    /// "unchanged within the band" until the heartbeat.
    Hold,
}

/// A difference between two metrics at the same bin (e.g. temperature minus dew point).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossDifference {
    pub left: String,
    pub right: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub name: String,
    pub version: u32,
    /// Width of a bin, in seconds.
    pub interval_secs: i64,
    /// Input metrics; each gets the lag and rolling features below.
    pub metrics: Vec<String>,
    /// The metric a model forecasts (training's target; also one of `metrics`).
    pub target: String,
    /// Lags in bins (1 = the previous bin). Lag 0, the current bin, is always included.
    pub lags: Vec<usize>,
    /// Rolling windows in bins (mean, std, min, max over the last `w` bins, current included).
    pub rolling: Vec<usize>,
    /// Hour-of-day and day-of-week as sine/cosine pairs.
    pub time_of_day: bool,
    pub cross: Vec<CrossDifference>,
    /// Missing bins filled (and flagged) when a gap is at most this long.
    pub max_gap_bins: usize,
    pub gap_fill: GapFill,
    /// Hampel filter: half window (bins) and threshold (scaled MADs).
    pub hampel_half_window: usize,
    pub hampel_sigmas: f64,
}

impl FeatureSpec {
    /// Rooms: 5-minute bins, CO2 forecast, an hour of history. Rooms' readings arrive reduced
    /// by the edge's dead-band with a six-hour heartbeat, so a value holds for up to six hours.
    /// v4: rows are point in time (as of their bin's close), a quiet input held to the row's bin.
    pub fn indoor_air() -> Self {
        Self {
            name: "indoor_air".into(),
            version: 4,
            interval_secs: 300,
            metrics: vec![
                "co2_ppm".into(),
                "temperature_c".into(),
                "humidity_pct".into(),
            ],
            target: "co2_ppm".into(),
            lags: vec![1, 2, 3, 6, 12],
            rolling: vec![6, 12],
            time_of_day: true,
            cross: vec![],
            max_gap_bins: 72,
            gap_fill: GapFill::Hold,
            hampel_half_window: 3,
            hampel_sigmas: 4.0,
        }
    }

    /// Outdoor air (the Beijing data): hourly bins, PM2.5 forecast, a day of history. v2 added
    /// the wind (the Beijing file's cumulated wind speed): wind is what clears the air there.
    /// v3: point-in-time rows, and values held for up to the default policy's six-hour
    /// heartbeat instead of interpolated over two hours: the hub sees the series dead-band
    /// reduced, and an interpolation needs the next value, which the edge does not have yet.
    pub fn outdoor_pm25() -> Self {
        Self {
            name: "outdoor_pm25".into(),
            version: 3,
            interval_secs: 3600,
            metrics: vec![
                "pm25_ugm3".into(),
                "temperature_c".into(),
                "dew_point_c".into(),
                "pressure_hpa".into(),
                "wind_speed_ms".into(),
            ],
            target: "pm25_ugm3".into(),
            lags: vec![1, 2, 3, 6, 12, 24],
            rolling: vec![6, 24],
            time_of_day: true,
            cross: vec![CrossDifference {
                left: "temperature_c".into(),
                right: "dew_point_c".into(),
            }],
            max_gap_bins: 6,
            gap_fill: GapFill::Hold,
            hampel_half_window: 3,
            hampel_sigmas: 5.0,
        }
    }

    /// Car parks (the Birmingham data): half-hourly occupancy, forecast from the last two hours
    /// and the time of day and week. The car parks report only in the daytime, so rows exist
    /// from two hours after the first report of a day. v2: point-in-time rows, values held
    /// for up to the default policy's six-hour heartbeat (the night's silence is longer).
    pub fn parking_occupancy() -> Self {
        Self {
            name: "parking_occupancy".into(),
            version: 2,
            interval_secs: 1800,
            metrics: vec!["occupancy_count".into()],
            target: "occupancy_count".into(),
            lags: vec![1, 2, 3, 4],
            rolling: vec![4],
            time_of_day: true,
            cross: vec![],
            max_gap_bins: 12,
            gap_fill: GapFill::Hold,
            hampel_half_window: 3,
            hampel_sigmas: 5.0,
        }
    }

    /// The project's specs by name: `indoor_air`, `outdoor_pm25`, `parking_occupancy`.
    pub fn by_name(name: &str) -> Option<Self> {
        match name {
            "indoor_air" => Some(Self::indoor_air()),
            "outdoor_pm25" => Some(Self::outdoor_pm25()),
            "parking_occupancy" => Some(Self::parking_occupancy()),
            _ => None,
        }
    }

    pub const NAMES: [&str; 3] = ["indoor_air", "outdoor_pm25", "parking_occupancy"];

    /// Bins of history a row needs before its own bin.
    pub fn history_bins(&self) -> usize {
        let lag = self.lags.iter().copied().max().unwrap_or(0);
        let window = self
            .rolling
            .iter()
            .copied()
            .max()
            .unwrap_or(1)
            .saturating_sub(1);
        lag.max(window)
    }

    /// How far a raw sample's influence on the cleaned, gap-filled grid of all samples reaches,
    /// either way: through an interpolated gap to the next observed bin, and through the Hampel
    /// window.
    pub(crate) fn grid_reach_bins(&self) -> usize {
        self.max_gap_bins + 1 + self.hampel_half_window
    }

    /// A new sample at bin `j` can change `bin_values` (the values as finally known, which
    /// live actuals use) from bin `j - reach_bins()` to `j + reach_bins()`. Feature rows
    /// are point in time, so it changes rows of bins `j` and later only, never one before.
    pub fn reach_bins(&self) -> usize {
        self.grid_reach_bins()
    }

    /// The row of bin `b` needs the samples from the start of bin `b - load_margin_bins()` to
    /// `b`'s end: the row's history plus how far back a grid value depends (a fillable gap and
    /// the Hampel window). Recomputing rows from `b` on needs the samples from there on.
    pub fn load_margin_bins(&self) -> usize {
        self.history_bins() + self.grid_reach_bins()
    }

    /// Column names, in row order.
    pub fn names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for metric in &self.metrics {
            names.push(metric.clone());
            names.extend(self.lags.iter().map(|lag| format!("{metric}_lag{lag}")));
            for window in &self.rolling {
                for stat in ["mean", "std", "min", "max"] {
                    names.push(format!("{metric}_{stat}{window}"));
                }
            }
        }
        if self.time_of_day {
            names.extend(["hour_sin", "hour_cos", "weekday_sin", "weekday_cos"].map(String::from));
        }
        names.extend(
            self.cross
                .iter()
                .map(|c| format!("{}_minus_{}", c.left, c.right)),
        );
        names
    }
}
