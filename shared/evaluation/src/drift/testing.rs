//! Live values counted into a window the way a gateway counts them.

use edgeops_contracts::monitoring::{FeatureReference, FeatureWindow};

pub fn window_of(reference: &FeatureReference, values: &[f64]) -> FeatureWindow {
    let mut window = FeatureWindow {
        name: reference.name.clone(),
        counts: vec![0; reference.edges.len() + 1],
        below_range: 0,
        above_range: 0,
        sum: 0.0,
        sum_sq: 0.0,
    };
    for value in values {
        window.counts[reference.bin_of(*value)] += 1;
        window.below_range += u64::from(*value < reference.min);
        window.above_range += u64::from(*value > reference.max);
        window.sum += value;
        window.sum_sq += value * value;
    }
    window
}
