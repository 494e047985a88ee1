//! Data drift of one model input: a window of live values, counted on the training reference's
//! bins ([`FeatureWindow`]), against that reference ([`FeatureReference`]).
//!
//! Two statistics, and a window is called drifted only when both exceed their thresholds:
//! - **PSI** (population stability index) over the reference's quantile bins plus two bins
//!   for values outside the training range (where the reference holds nothing): how much the
//!   *shape* moved, on a scale that does not grow with the sample size. Empty bins are floored
//!   at [`PSI_FLOOR`].
//! - **Wasserstein-1** distance in units of the reference's standard deviation: how *far* the
//!   values moved. From binned data it is bounded below two ways and the larger is used: the
//!   distance between the binned distributions with each bin's mass at one point (see
//!   `bin_points`), and the distance between the means
//!   (`|E X - E Y| <= W1` always; the live mean is exact, from the window's sum), which also
//!   measures how far past the training range out-of-range values went.
//!
//! PSI alone flags harmless reshuffles between narrow bins; a distance alone flags a wide
//! feature's noise. Requiring both asks for a change that is large in shape *and* in the
//! feature's own units. No significance test (KS, chi-squared): with thousands of values a
//! test finds every trivial difference significant, and a verdict that depends on how many
//! values a gateway happened to send is not a statement about the model's inputs.
//! [`DriftThresholds::min_values`] keeps small windows, where PSI is mostly noise, from getting
//! a verdict at all.
//!
//! The window must be comparable with the reference: a feature with a daily cycle (or the
//! time-of-day inputs themselves) is not distributed over one hour as over the whole day, so
//! judge windows that cover whole days (windows add: [`combined`]).

use edgeops_contracts::monitoring::{FeatureReference, FeatureWindow};
use serde::{Deserialize, Serialize};

/// Share given to an empty bin, live or reference, so PSI stays finite: a bin the reference
/// holds 10 % of and the window none of adds `0.1 * ln(0.1 / 1e-4)` ≈ 0.69.
pub const PSI_FLOOR: f64 = 1e-4;

/// The standard deviation a constant reference is taken to have: any live value off the
/// constant is then very many of them away.
const MIN_STD: f64 = 1e-9;

/// When a feature's window is called drifted. See the module notes and `docs/monitoring.md`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DriftThresholds {
    /// PSI above which the shape moved (0.25: the usual "significant shift").
    pub psi: f64,
    /// Wasserstein-1 distance, in reference standard deviations, above which the values moved.
    pub wasserstein: f64,
    /// Fewest live values for a verdict.
    pub min_values: u64,
}

impl Default for DriftThresholds {
    /// PSI 0.25 and half a reference standard deviation. 200 values: on independent values
    /// from the reference's own distribution, PSI over ten bins is about `chi²(9) / n` (mean
    /// 0.045 at 200, and above 0.25 with probability about 1e-7), so PSI alone would hardly
    /// ever flag such a window; the tests measure it (`docs/monitoring.md`).
    fn default() -> Self {
        Self {
            psi: 0.25,
            wasserstein: 0.5,
            min_values: 200,
        }
    }
}

/// One feature's verdict over one window, with the figures it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureDrift {
    pub feature: String,
    pub psi: f64,
    /// Wasserstein-1 distance in reference standard deviations.
    pub wasserstein: f64,
    /// Live values in the window.
    pub values: u64,
    /// Training rows of the reference.
    pub reference_rows: u64,
    pub drifted: bool,
}

/// The verdict on `live` against `reference`. `None` when `live` has fewer than `min_values`
/// values (no verdict on a tiny window, and none on an empty one whatever the thresholds) or
/// was not counted on this reference's bins.
pub fn feature_drift(
    reference: &FeatureReference,
    live: &FeatureWindow,
    thresholds: &DriftThresholds,
) -> Option<FeatureDrift> {
    let values = live.values();
    let bins = reference.edges.len() + 1;
    if values == 0
        || values < thresholds.min_values
        || live.counts.len() != bins
        || reference.shares.len() != bins
    {
        return None;
    }
    let live_shares = live_shares(live, values);
    let reference_shares = reference_shares(reference);
    let psi = psi(&reference_shares, &live_shares);
    let binned = binned_wasserstein(reference, &reference_shares, &live_shares);
    let live_mean = live.sum / values as f64;
    let mean_shift = if live_mean.is_finite() {
        (live_mean - reference.mean).abs()
    } else {
        0.0
    };
    let wasserstein = binned.max(mean_shift) / reference.std.max(MIN_STD);
    Some(FeatureDrift {
        feature: reference.name.clone(),
        psi,
        wasserstein,
        values,
        reference_rows: reference.rows,
        drifted: psi > thresholds.psi && wasserstein > thresholds.wasserstein,
    })
}

/// Windows of one feature added up (a day of hourly windows, several devices); `None` when
/// there are none or they were counted on different bins.
pub fn combined(windows: &[FeatureWindow]) -> Option<FeatureWindow> {
    let (first, rest) = windows.split_first()?;
    let mut total = first.clone();
    for window in rest {
        if window.counts.len() != total.counts.len() {
            return None;
        }
        for (sum, count) in total.counts.iter_mut().zip(&window.counts) {
            *sum += count;
        }
        total.below_range += window.below_range;
        total.above_range += window.above_range;
        total.sum += window.sum;
        total.sum_sq += window.sum_sq;
    }
    Some(total)
}

/// Shares of the extended bins: below the training minimum, the reference's bins (without
/// the out-of-range values, which the first and last of them also count), above the maximum.
fn live_shares(live: &FeatureWindow, values: u64) -> Vec<f64> {
    let mut counts = live.counts.clone();
    let below = live.below_range.min(counts[0]);
    counts[0] -= below;
    let last = counts.len() - 1;
    let above = live.above_range.min(counts[last]);
    counts[last] -= above;
    std::iter::once(below)
        .chain(counts)
        .chain(std::iter::once(above))
        .map(|count| count as f64 / values as f64)
        .collect()
}

/// The reference's shares on the same extended bins: nothing outside the training range.
fn reference_shares(reference: &FeatureReference) -> Vec<f64> {
    std::iter::once(0.0)
        .chain(reference.shares.iter().copied())
        .chain(std::iter::once(0.0))
        .collect()
}

fn psi(reference: &[f64], live: &[f64]) -> f64 {
    reference
        .iter()
        .zip(live)
        .map(|(r, l)| {
            let (r, l) = (r.max(PSI_FLOOR), l.max(PSI_FLOOR));
            (l - r) * (l / r).ln()
        })
        .sum()
}

/// W1 between the two binned distributions: the sum over neighbouring points of the difference
/// of the cumulative shares times the gap between the points.
fn binned_wasserstein(reference: &FeatureReference, reference_shares: &[f64], live: &[f64]) -> f64 {
    let points = bin_points(reference);
    let (mut reference_cumulative, mut live_cumulative, mut distance) = (0.0, 0.0, 0.0);
    for (k, gap) in points.windows(2).map(|p| p[1] - p[0]).enumerate() {
        reference_cumulative += reference_shares[k];
        live_cumulative += live[k];
        distance += (live_cumulative - reference_cumulative).abs() * gap;
    }
    distance
}

/// Where each extended bin's mass is taken to sit: an interior bin at its midpoint; the two
/// tail bins half their neighbour's width beyond their edge (not midway to the training
/// extreme, which a single outlier sets), within the training range; the out-of-range bins
/// at the training minimum and maximum (the least those values can have moved).
fn bin_points(reference: &FeatureReference) -> Vec<f64> {
    let (min, max, edges) = (reference.min, reference.max, &reference.edges);
    let tails = match (edges.as_slice(), edges.len()) {
        ([], _) => None,
        ([edge], _) => Some(((min + edge) / 2.0, (edge + max) / 2.0)),
        ([first, second, ..], n) => {
            let (before_last, last) = (edges[n - 2], edges[n - 1]);
            Some((
                (first - (second - first) / 2.0).max(min),
                (last + (last - before_last) / 2.0).min(max),
            ))
        }
    };
    let mut points = vec![min];
    match tails {
        None => points.push((min + max) / 2.0),
        Some((low, high)) => {
            points.push(low);
            points.extend(edges.windows(2).map(|e| (e[0] + e[1]) / 2.0));
            points.push(high);
        }
    }
    points.push(max);
    points
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
