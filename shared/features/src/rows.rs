//! Feature rows, point in time: the row of bin `b` is what is known when `b` closes, computed
//! from the samples before `b`'s end only. For each bin where the device reported an input and
//! every input has a value (observed, filled across a short gap, or, for dead-band-reduced
//! series, held from its last value) for the bin and its history, one vector in
//! `FeatureSpec::names()` order.
//!
//! Why point in time: the gateway computes the row of the newest bin from the samples up to now.
//! Were the hub's rows computed from all samples, a later sample would reach back into a row
//! (through the Hampel window's forward half, or a gap interpolated towards the next value):
//! training would see a little of the future, and serve on rows it never trained on.

use std::collections::BTreeMap;
use std::f64::consts::TAU;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use crate::clean::clean;
use crate::resample::{bin_of, bin_time, fill_gaps, resample};
use crate::spec::{FeatureSpec, GapFill};

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

/// The value of each bin of `metric` as finally known, by bin start: all the samples averaged
/// into the spec's bins, cleaned, gaps of at most `max_gap_bins` filled (flagged `true`). Live
/// evaluation judges forecasts against these values. A row's values are the same steps over
/// the samples before the row's end only: for a bin with a sample they equal these unless a
/// later bin changes the Hampel filter's decision; a bin filled from the next value is not in
/// its own row. Training labels come from rows (the target in the row of `b + h`), so they
/// are values as known at the label bin's close.
pub fn bin_values(
    spec: &FeatureSpec,
    metric: &str,
    samples: &[(DateTime<Utc>, f64)],
) -> BTreeMap<i64, (f64, bool)> {
    grid(spec, metric, samples)
}

/// One metric's grid as known at the close of some bin `b`. A grid value depends on the samples
/// at most `grid_reach_bins` either side of it, so the values up to `b - grid_reach_bins` are
/// already final when `b` closes and are read from the grid of all samples (`settled`); only the
/// recent ones are recomputed from the samples before `b`'s end (`recent`, from `recent_from`).
struct AsOf<'a> {
    settled: &'a Grid,
    recent: Grid,
    recent_from: i64,
}

impl AsOf<'_> {
    fn get(&self, bin: i64) -> Option<(f64, bool)> {
        let grid = if bin >= self.recent_from {
            &self.recent
        } else {
            self.settled
        };
        grid.get(&bin).copied()
    }

    /// The last `n` values up to and including `bin`, oldest first, if all present.
    fn history(&self, bin: i64, n: usize, interval: i64) -> Option<Vec<(f64, bool)>> {
        (0..n as i64)
            .rev()
            .map(|k| self.get(bin - k * interval))
            .collect()
    }
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
fn row(spec: &FeatureSpec, grids: &BTreeMap<&str, AsOf>, bin: i64) -> Option<FeatureRow> {
    let interval = spec.interval_secs;
    let mut values = Vec::with_capacity(spec.names().len());
    let mut interpolated = false;
    for metric in &spec.metrics {
        let grid = grids.get(metric.as_str())?;
        let span = spec.history_bins() + 1;
        let past = grid.history(bin, span, interval)?;
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
        let left = grids.get(cross.left.as_str())?.get(bin)?.0;
        let right = grids.get(cross.right.as_str())?.get(bin)?.0;
        values.push(left - right);
    }
    Some(FeatureRow {
        ts: bin_time(bin),
        values,
        interpolated,
    })
}

/// Feature rows of one device from its raw samples per metric (in any order), for bins at or
/// after `from_bin` (all bins when `None`).
///
/// The row of bin `b` is computed from the samples with a timestamp before `b`'s end only (and
/// needs none before `b - load_margin_bins()`): adding samples after `b` never changes it, and
/// a caller holding only the samples up to now gets the rows the hub gets. So a row exists only
/// for a bin where the device reported some input: for a dead-band-reduced spec
/// (`GapFill::Hold`) an input silent in the bin holds its last value (up to `max_gap_bins`);
/// otherwise the target needs a sample of its own there, since a linear fill needs the next
/// value (the bin may be filled in a later row's history). Deterministic: the same samples give
/// the same rows.
pub fn compute_rows(
    spec: &FeatureSpec,
    samples: &BTreeMap<String, Vec<(DateTime<Utc>, f64)>>,
    from_bin: Option<i64>,
) -> Vec<FeatureRow> {
    let interval = spec.interval_secs;
    let reach = spec.grid_reach_bins() as i64 * interval;
    // Samples before this cannot reach a row from `from_bin` on.
    let load_from = from_bin.map(|from| from - spec.load_margin_bins() as i64 * interval);
    let sorted: BTreeMap<&str, Vec<(DateTime<Utc>, f64)>> = spec
        .metrics
        .iter()
        .map(|metric| {
            let all = samples.get(metric).map_or(&[][..], Vec::as_slice);
            let mut kept: Vec<_> = all
                .iter()
                .filter(|(ts, _)| load_from.is_none_or(|from| ts.timestamp() >= from))
                .copied()
                .collect();
            kept.sort_by_key(|(ts, _)| *ts);
            (metric.as_str(), kept)
        })
        .collect();
    let settled: BTreeMap<&str, Grid> = sorted
        .iter()
        .map(|(metric, samples)| (*metric, grid(spec, metric, samples)))
        .collect();
    if !sorted.contains_key(spec.target.as_str()) {
        return Vec::new();
    }
    // Bins where the device reported any input: as of their close, something is known there.
    let mut candidates: Vec<i64> = sorted
        .values()
        .flatten()
        .map(|(ts, _)| bin_of(*ts, interval))
        .filter(|bin| from_bin.is_none_or(|from| *bin >= from))
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    candidates
        .into_iter()
        .filter_map(|bin| {
            let end = bin + interval;
            let as_of: BTreeMap<&str, AsOf> = sorted
                .iter()
                .map(|(metric, samples)| {
                    let recent = between(samples, end - 2 * reach, end);
                    let mut recent = grid(spec, metric, recent);
                    hold_to(spec, &mut recent, bin);
                    let as_of = AsOf {
                        settled: &settled[metric],
                        recent,
                        recent_from: end - reach,
                    };
                    (*metric, as_of)
                })
                .collect();
            row(spec, &as_of, bin)
        })
        .collect()
}

/// For a dead-band-reduced series (`GapFill::Hold`): the last value known at `bin`'s close
/// holds up to `bin`, flagged, when it is at most `max_gap_bins` old. No message means
/// "unchanged within the band" until the heartbeat, so that is what is known then; a linear
/// fill needs the next value and is never made towards the row's own bin.
fn hold_to(spec: &FeatureSpec, grid: &mut Grid, bin: i64) {
    if spec.gap_fill != GapFill::Hold {
        return;
    }
    let Some((&last, &(value, _))) = grid.last_key_value() else {
        return;
    };
    let interval = spec.interval_secs;
    if last >= bin || (bin - last) / interval > spec.max_gap_bins as i64 {
        return;
    }
    let mut held = last + interval;
    while held <= bin {
        grid.insert(held, (value, true));
        held += interval;
    }
}

/// The samples (sorted by time) with a timestamp in `[from, to)`, in seconds.
fn between(samples: &[(DateTime<Utc>, f64)], from: i64, to: i64) -> &[(DateTime<Utc>, f64)] {
    let start = samples.partition_point(|(ts, _)| ts.timestamp() < from);
    let end = samples.partition_point(|(ts, _)| ts.timestamp() < to);
    &samples[start..end.max(start)]
}

#[cfg(test)]
mod point_in_time_tests;
#[cfg(test)]
mod tests;
