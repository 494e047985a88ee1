//! The baselines' scores and MASE's scale. [`Scores`] itself is wire data (training events
//! carry it), defined once in `edgeops_contracts::training`.

use edgeops_contracts::training::Scores;

use crate::dataset::Dataset;

/// In-sample MAE of persistence at the dataset's horizon over `train`: MASE's denominator.
pub fn mase_scale(dataset: &Dataset, train: &[usize]) -> f64 {
    if train.is_empty() {
        return 0.0;
    }
    train
        .iter()
        .map(|i| (dataset.y[*i] - dataset.current(*i)).abs())
        .sum::<f64>()
        / train.len() as f64
}

/// Persistence: the value at the forecast's origin.
pub fn persistence(dataset: &Dataset, rows: &[usize], scale: f64) -> Option<Scores> {
    Scores::of(
        rows.iter().map(|i| (dataset.current(*i), dataset.y[*i])),
        scale,
    )
}

/// Seasonal naive: the value one day before the label's time, over the rows that have it.
pub fn seasonal_naive(dataset: &Dataset, rows: &[usize], scale: f64) -> Option<Scores> {
    Scores::of(
        rows.iter()
            .filter_map(|i| dataset.seasonal[*i].map(|s| (s, dataset.y[*i]))),
        scale,
    )
}
