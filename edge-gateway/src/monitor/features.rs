//! Live feature rows counted on a model's training reference: per feature, the rows per
//! reference bin, those outside the training range, and the sums for mean and spread. Pure.

use edgeops_contracts::monitoring::{FeatureReference, FeatureWindow};

/// The features of `rows` (each in the model's input order) against `reference` (the same
/// order). `None` when the rows do not have one value per referenced feature (a reference that
/// does not describe this model's input). Values that are not numbers are not counted.
pub fn feature_windows<'a>(
    reference: &[FeatureReference],
    rows: impl IntoIterator<Item = &'a [f32]>,
) -> Option<Vec<FeatureWindow>> {
    let mut windows: Vec<FeatureWindow> = reference
        .iter()
        .map(|r| FeatureWindow {
            name: r.name.clone(),
            counts: vec![0; r.edges.len() + 1],
            below_range: 0,
            above_range: 0,
            sum: 0.0,
            sum_sq: 0.0,
        })
        .collect();
    for row in rows {
        if row.len() != reference.len() {
            return None;
        }
        for ((window, reference), value) in windows.iter_mut().zip(reference).zip(row) {
            let value = f64::from(*value);
            if !value.is_finite() {
                continue;
            }
            window.counts[reference.bin_of(value)] += 1;
            window.below_range += u64::from(value < reference.min);
            window.above_range += u64::from(value > reference.max);
            window.sum += value;
            window.sum_sq += value * value;
        }
    }
    Some(windows)
}
