//! One device's open windows: its readings per window, the samples of forecast metrics its
//! forecasts are judged on, and its model forecasts (one per model version and origin bin: the
//! last made, the one made when the bin closed). Pure.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use edgeops_contracts::Reading;
use edgeops_contracts::monitoring::{
    FeatureReference, FeatureWindow, ModelVersionRef, ModelWindow, PairedErrorSums,
    STUCK_MIN_READINGS,
};
use edgeops_evaluation::{Forecast as Judged, pair_device};
use edgeops_features::FeatureSpec;

use super::features::feature_windows;
use super::window::{at, window_of};

/// What the summarizer knows of a model version whose forecasts it judges.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    pub model: String,
    pub version: u32,
    pub spec: FeatureSpec,
    pub horizon_bins: u32,
    /// The manifest's reference, in input order (empty for models from before references).
    pub reference: Vec<FeatureReference>,
}

/// A model forecast as kept: its target, value and feature row, and the local sequence it
/// was read at (the restart cursor never passes a kept forecast).
#[derive(Debug, Clone, PartialEq)]
pub struct KeptForecast {
    pub target: i64,
    pub value: f64,
    pub row: Option<Vec<f32>>,
    pub sequence: u64,
}

#[derive(Debug, Clone)]
struct ModelForecasts {
    /// `None`: the gateway no longer knows the version (its forecasts are then unusable).
    info: Option<Arc<ModelInfo>>,
    metric: String,
    horizon_bins: u32,
    by_origin: BTreeMap<i64, KeptForecast>,
}

/// One metric's readings in a window: whether every value equalled the first.
#[derive(Debug, Clone, Copy, PartialEq)]
struct MetricRun {
    count: u64,
    first: f64,
    unchanged: bool,
}

#[derive(Debug, Clone, Default)]
struct WindowReadings {
    count: u64,
    last_at: i64,
    metrics: BTreeMap<String, MetricRun>,
    /// The first raw sequence counted in: the restart cursor stays before it.
    first_sequence: u64,
}

/// A window's figures as of emission; turned into a `WindowSummary` by the caller.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WindowFigures {
    pub readings: u64,
    pub last_reading_at: Option<i64>,
    pub stuck_metrics: Vec<String>,
    pub models: Vec<ModelWindow>,
    pub features: Vec<FeatureWindow>,
    pub features_of: Option<ModelVersionRef>,
}

#[derive(Debug, Clone)]
pub struct DeviceState {
    /// The windows' length in seconds.
    window: i64,
    windows: BTreeMap<i64, WindowReadings>,
    /// Samples of forecast metrics by time (the first of a timestamp counts, as ingest keeps
    /// it), with their raw sequence.
    samples: BTreeMap<String, BTreeMap<i64, (f64, u64)>>,
    forecasts: BTreeMap<(String, u32), ModelForecasts>,
}

impl DeviceState {
    pub fn new(window: i64) -> Self {
        Self {
            window,
            windows: BTreeMap::new(),
            samples: BTreeMap::new(),
            forecasts: BTreeMap::new(),
        }
    }

    /// Counts `reading` into its window if that is still open (starts at or after
    /// `open_from`), and keeps its samples of `targets` from `keep_from` on.
    pub fn observe_reading(
        &mut self,
        sequence: u64,
        reading: &Reading,
        targets: &BTreeSet<String>,
        (open_from, keep_from): (i64, i64),
    ) {
        let ts = reading.ts.timestamp();
        if window_of(ts, self.window) >= open_from {
            let window = self
                .windows
                .entry(window_of(ts, self.window))
                .or_insert_with(|| WindowReadings {
                    first_sequence: sequence,
                    ..WindowReadings::default()
                });
            window.count += 1;
            window.last_at = window.last_at.max(ts);
            for (metric, value) in &reading.metrics {
                let run = window.metrics.entry(metric.clone()).or_insert(MetricRun {
                    count: 0,
                    first: *value,
                    unchanged: true,
                });
                run.count += 1;
                run.unchanged &= *value == run.first;
            }
        }
        if ts >= keep_from {
            for (metric, value) in reading.metrics.iter().filter(|(m, _)| targets.contains(*m)) {
                self.samples
                    .entry(metric.clone())
                    .or_default()
                    .entry(ts)
                    .or_insert((*value, sequence));
            }
        }
    }

    /// Keeps a model forecast whose target window is still open; a newer forecast of the same
    /// origin replaces an older one.
    pub fn observe_forecast(
        &mut self,
        key: (String, u32),
        info: Option<Arc<ModelInfo>>,
        (metric, horizon_bins): (&str, u32),
        origin: i64,
        forecast: KeptForecast,
        open_from: i64,
    ) {
        if window_of(forecast.target, self.window) < open_from {
            return;
        }
        let kept = self.forecasts.entry(key).or_insert_with(|| ModelForecasts {
            info: None,
            metric: metric.to_owned(),
            horizon_bins,
            by_origin: BTreeMap::new(),
        });
        if info.is_some() {
            kept.info = info;
        }
        kept.by_origin.insert(origin, forecast);
    }

    /// Window starts this device has something for, from `open_from` on.
    pub fn windows(&self) -> BTreeSet<i64> {
        let mut starts: BTreeSet<i64> = self.windows.keys().copied().collect();
        for kept in self.forecasts.values() {
            for (origin, forecast) in &kept.by_origin {
                starts.insert(window_of(forecast.target, self.window));
                if forecast.row.is_some() {
                    starts.insert(window_of(*origin, self.window));
                }
            }
        }
        starts
    }

    /// The figures of the window starting at `start`.
    pub fn figures(&self, start: i64) -> WindowFigures {
        let readings = self.windows.get(&start);
        let stuck_metrics = readings.map_or_else(Vec::new, |w| {
            w.metrics
                .iter()
                .filter(|(_, run)| run.unchanged && run.count >= STUCK_MIN_READINGS)
                .map(|(metric, _)| metric.clone())
                .collect()
        });
        let features = self.features(start);
        let features_of = features.as_ref().map(|(of, _)| of.clone());
        WindowFigures {
            readings: readings.map_or(0, |w| w.count),
            last_reading_at: readings.map(|w| w.last_at),
            stuck_metrics,
            models: self.model_windows(start),
            features: features.map(|(_, f)| f).unwrap_or_default(),
            features_of,
        }
    }

    /// The paired error of each model version with a forecast whose target is in the window.
    fn model_windows(&self, start: i64) -> Vec<ModelWindow> {
        let in_window = |t: i64| (start..start + self.window).contains(&t);
        let mut models = Vec::new();
        for ((model, version), kept) in &self.forecasts {
            let forecasts: Vec<Judged> = kept
                .by_origin
                .iter()
                .filter(|(_, f)| in_window(f.target))
                .map(|(origin, f)| Judged {
                    origin: at(*origin),
                    target: at(f.target),
                    value: f.value,
                })
                .collect();
            if forecasts.is_empty() {
                continue;
            }
            let error = match &kept.info {
                Some(info) if info.spec.target == kept.metric => {
                    paired_sums(&info.spec, &self.samples_of(&kept.metric), &forecasts)
                }
                _ => PairedErrorSums {
                    unusable: forecasts.len() as u64,
                    ..PairedErrorSums::default()
                },
            };
            models.push(ModelWindow {
                model: model.clone(),
                version: *version,
                metric: kept.metric.clone(),
                horizon_bins: kept.horizon_bins,
                error,
            });
        }
        models
    }

    /// The serving model's input rows made in the window (origin there), on its reference:
    /// the serving model is the version of the window's latest row.
    fn features(&self, start: i64) -> Option<(ModelVersionRef, Vec<FeatureWindow>)> {
        let in_window = |o: &i64| (start..start + self.window).contains(o);
        let (key, kept) = self
            .forecasts
            .iter()
            .filter_map(|(key, kept)| {
                let latest = kept
                    .by_origin
                    .iter()
                    .rev()
                    .find(|(o, f)| in_window(o) && f.row.is_some())?;
                Some((*latest.0, (key, kept)))
            })
            .max_by_key(|(origin, _)| *origin)
            .map(|(_, found)| found)?;
        let reference = &kept.info.as_ref()?.reference;
        if reference.is_empty() {
            return None;
        }
        let rows = kept
            .by_origin
            .iter()
            .filter(|(o, _)| in_window(o))
            .filter_map(|(_, f)| f.row.as_deref());
        let of = ModelVersionRef {
            model: key.0.clone(),
            version: key.1,
        };
        Some((of, feature_windows(reference, rows)?))
    }

    fn samples_of(&self, metric: &str) -> Vec<(chrono::DateTime<chrono::Utc>, f64)> {
        self.samples.get(metric).map_or_else(Vec::new, |s| {
            s.iter().map(|(ts, (value, _))| (at(*ts), *value)).collect()
        })
    }

    /// Drops what no window from `open_from` on needs (samples before `keep_from`).
    pub fn prune(&mut self, open_from: i64, keep_from: i64) {
        self.windows.retain(|start, _| *start >= open_from);
        for samples in self.samples.values_mut() {
            *samples = samples.split_off(&keep_from);
        }
        self.samples.retain(|_, s| !s.is_empty());
        let window = self.window;
        for kept in self.forecasts.values_mut() {
            kept.by_origin
                .retain(|_, f| window_of(f.target, window) >= open_from);
        }
        self.forecasts.retain(|_, kept| !kept.by_origin.is_empty());
    }

    /// The earliest raw and forecast sequences still needed (the restart cursors stay before
    /// them).
    pub fn earliest_sequences(&self) -> (Option<u64>, Option<u64>) {
        let raw = self
            .windows
            .values()
            .map(|w| w.first_sequence)
            .chain(
                self.samples
                    .values()
                    .flat_map(|s| s.values().map(|(_, q)| *q)),
            )
            .min();
        let forecast = self
            .forecasts
            .values()
            .flat_map(|kept| kept.by_origin.values().map(|f| f.sequence))
            .min();
        (raw, forecast)
    }

    pub fn is_empty(&self) -> bool {
        self.windows.is_empty() && self.samples.is_empty() && self.forecasts.is_empty()
    }
}

/// The paired error of `forecasts` on `samples`, with the one definition
/// ([`edgeops_evaluation::pair_device`]); at emission a forecast still waiting for its actual
/// will never get one, so it is unusable.
pub fn paired_sums(
    spec: &FeatureSpec,
    samples: &[(chrono::DateTime<chrono::Utc>, f64)],
    forecasts: &[Judged],
) -> PairedErrorSums {
    let pairing = pair_device(spec, samples, forecasts);
    let mut sums = PairedErrorSums {
        judged: pairing.pairs.len() as u64,
        unusable: pairing.unusable + pairing.pending,
        ..PairedErrorSums::default()
    };
    for pair in &pairing.pairs {
        let (c, b) = (pair.candidate_sq(), pair.baseline_sq());
        sums.sum_c += c;
        sums.sum_b += b;
        sums.sum_d_sq += (c - b).powi(2);
    }
    sums
}
