//! A feature's distribution in the training rows: what monitoring and the gateway compare live
//! inputs against ([`FeatureReference`]). Training computes it over its training part only,
//! never the holdout (`edgeops_ml::training_reference`), so the reference describes exactly
//! what the model was fitted on.
//!
//! **The cut points.** The interior deciles of the sorted finite values, taken as data values
//! (the inverse of the empirical distribution: the `k`-th edge is the smallest value with at
//! least `k/10` of the values at or below it). Equal edges are merged, and an edge equal to the
//! maximum is dropped (the bin above it would hold no training value), so every bin holds some
//! training values and a constant feature has no edges and one bin. The shares are then
//! counted under the contract's own bin rule ([`FeatureReference::bin_of`]), so they are the
//! true shares whatever was merged.

use edgeops_contracts::monitoring::{FeatureReference, REFERENCE_QUANTILES};

/// The reference of one feature from its training values. NaN and infinite values are skipped
/// (missing); `None` when no finite value is left. `std` is the population standard deviation
/// (divided by the count): the spread of these rows, not an estimate of another sample's.
pub fn feature_reference(
    name: &str,
    values: impl IntoIterator<Item = f64>,
) -> Option<FeatureReference> {
    let mut sorted: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let (min, max) = (*sorted.first()?, *sorted.last()?);
    let n = sorted.len();
    let mut edges: Vec<f64> = (1..REFERENCE_QUANTILES)
        .map(|k| sorted[(k * n).div_ceil(REFERENCE_QUANTILES) - 1])
        .filter(|edge| *edge < max)
        .collect();
    edges.dedup();
    let at_or_below = |edge: f64| sorted.partition_point(|v| *v <= edge);
    let mut shares = Vec::with_capacity(edges.len() + 1);
    let mut counted = 0;
    for edge in &edges {
        let cumulative = at_or_below(*edge);
        shares.push((cumulative - counted) as f64 / n as f64);
        counted = cumulative;
    }
    shares.push((n - counted) as f64 / n as f64);
    let mean = sorted.iter().sum::<f64>() / n as f64;
    let variance = sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    Some(FeatureReference {
        name: name.to_owned(),
        edges,
        shares,
        min,
        max,
        mean,
        std: variance.sqrt(),
        rows: n as u64,
    })
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
