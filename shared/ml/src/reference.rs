//! Each input's distribution in the training part of a dataset, never the holdout: the
//! reference a run reports and the signed manifest carries, so monitoring and the gateway
//! compare live inputs against exactly what the model was fitted on. The statistics per
//! feature are [`edgeops_features::feature_reference`]'s.

use edgeops_contracts::monitoring::FeatureReference;
use edgeops_features::feature_reference;

use crate::Dataset;

/// The reference of every input of `dataset` over the examples `rows` (the training part), in
/// the model's input order. `None` when some input has no finite value in those rows (a dataset
/// refuses such a feature, so a built dataset's training part always has one).
pub fn training_reference(dataset: &Dataset, rows: &[usize]) -> Option<Vec<FeatureReference>> {
    dataset
        .feature_names
        .iter()
        .enumerate()
        .map(|(column, name)| {
            feature_reference(name, rows.iter().map(|row| dataset.row(*row)[column]))
        })
        .collect()
}

#[cfg(test)]
mod tests;
