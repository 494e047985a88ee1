//! Feature rows: for each bin where every input has a value (observed or interpolated) for the
//! bin and its history, one vector in `FeatureSpec::names()` order.

use std::collections::BTreeMap;
use std::f64::consts::TAU;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use crate::clean::clean;
use crate::resample::{bin_time, fill_gaps, resample};
use crate::spec::FeatureSpec;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureRow {
    /// Start of the row's bin.
    pub ts: DateTime<Utc>,
    pub values: Vec<f64>,
    /// Whether any input of the row was interpolated across a short gap.
    pub interpolated: bool,
}

/// Per metric: cleaned, gap-filled values by bin start.
type Grid = BTreeMap<i64, (f64, bool)>;

fn grid(spec: &FeatureSpec, metric: &str, samples: &[(DateTime<Utc>, f64)]) -> Grid {
    let bins = resample(samples, spec.interval_secs);
    let cleaned = clean(
        metric,
        bins,
        spec.interval_secs,
        spec.hampel_half_window,
        spec.hampel_sigmas,
    );
    fill_gaps(
        &cleaned,
        spec.interval_secs,
        spec.max_gap_bins,
        spec.gap_fill,
    )
    .into_iter()
    .filter_map(|(bin, value)| value.map(|v| (bin, v)))
    .collect()
}

/// The value of each bin of `metric` as every row sees it, by bin start: the samples averaged
/// into the spec's bins, cleaned, gaps of at most `max_gap_bins` filled (flagged `true`). A
/// row's current value of the metric is this; training's label for horizon `h` at bin `b` is
/// the target's value at `b + h` bins. Live evaluation judges forecasts against the same
/// values, so "the actual" means one thing across training, deployment and monitoring.
pub fn bin_values(
    spec: &FeatureSpec,
    metric: &str,
    samples: &[(DateTime<Utc>, f64)],
) -> BTreeMap<i64, (f64, bool)> {
    grid(spec, metric, samples)
}

/// The last `n` values up to and including `bin`, oldest first, if all present.
fn history(grid: &Grid, bin: i64, n: usize, interval: i64) -> Option<Vec<(f64, bool)>> {
    (0..n as i64)
        .rev()
        .map(|k| grid.get(&(bin - k * interval)).copied())
        .collect()
}

fn rolling_stats(values: &[f64]) -> [f64; 4] {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    [mean, variance.sqrt(), min, max]
}

fn time_features(ts: DateTime<Utc>) -> [f64; 4] {
    let hour = f64::from(ts.timestamp().rem_euclid(86_400) as u32) / 3600.0;
    let weekday = f64::from(ts.weekday().num_days_from_monday());
    [
        (TAU * hour / 24.0).sin(),
        (TAU * hour / 24.0).cos(),
        (TAU * weekday / 7.0).sin(),
        (TAU * weekday / 7.0).cos(),
    ]
}

/// One row for `bin`, or `None` when an input or its history is missing.
fn row(spec: &FeatureSpec, grids: &BTreeMap<&str, Grid>, bin: i64) -> Option<FeatureRow> {
    let interval = spec.interval_secs;
    let mut values = Vec::with_capacity(spec.names().len());
    let mut interpolated = false;
    for metric in &spec.metrics {
        let grid = grids.get(metric.as_str())?;
        let span = spec.history_bins() + 1;
        let past = history(grid, bin, span, interval)?;
        interpolated |= past.iter().any(|(_, filled)| *filled);
        let current = past[span - 1].0;
        values.push(current);
        values.extend(spec.lags.iter().map(|lag| past[span - 1 - lag].0));
        for window in &spec.rolling {
            let recent: Vec<f64> = past[span - window..].iter().map(|(v, _)| *v).collect();
            values.extend(rolling_stats(&recent));
        }
    }
    if spec.time_of_day {
        values.extend(time_features(bin_time(bin)));
    }
    for cross in &spec.cross {
        let left = grids.get(cross.left.as_str())?.get(&bin)?.0;
        let right = grids.get(cross.right.as_str())?.get(&bin)?.0;
        values.push(left - right);
    }
    Some(FeatureRow {
        ts: bin_time(bin),
        values,
        interpolated,
    })
}

/// Feature rows of one device from its raw samples per metric, for bins at or after `from_bin`
/// (all bins when `None`). Deterministic: the same samples give the same rows.
pub fn compute_rows(
    spec: &FeatureSpec,
    samples: &BTreeMap<String, Vec<(DateTime<Utc>, f64)>>,
    from_bin: Option<i64>,
) -> Vec<FeatureRow> {
    let grids: BTreeMap<&str, Grid> = spec
        .metrics
        .iter()
        .map(|metric| {
            (
                metric.as_str(),
                grid(
                    spec,
                    metric,
                    samples.get(metric).map_or(&[][..], Vec::as_slice),
                ),
            )
        })
        .collect();
    let Some(target) = grids.get(spec.target.as_str()) else {
        return Vec::new();
    };
    target
        .keys()
        .filter(|bin| from_bin.is_none_or(|from| **bin >= from))
        .filter_map(|bin| row(spec, &grids, *bin))
        .collect()
}

#[cfg(test)]
mod tests;
