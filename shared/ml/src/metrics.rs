//! Forecast scores: RMSE, MAE and MASE (MAE scaled by the training part's in-sample
//! persistence MAE at the same horizon, so 1.0 means "as good as persistence was in training").

use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub rmse: f64,
    pub mae: f64,
    pub mase: f64,
    pub rows: usize,
}

impl Scores {
    /// `None` when there is nothing to score.
    pub fn of(pairs: impl IntoIterator<Item = (f64, f64)>, mase_scale: f64) -> Option<Scores> {
        let (mut n, mut squared, mut absolute) = (0usize, 0.0, 0.0);
        for (predicted, actual) in pairs {
            let error = predicted - actual;
            n += 1;
            squared += error * error;
            absolute += error.abs();
        }
        (n > 0).then(|| {
            let mae = absolute / n as f64;
            Scores {
                rmse: (squared / n as f64).sqrt(),
                mae,
                mase: if mase_scale > 0.0 {
                    mae / mase_scale
                } else {
                    f64::INFINITY
                },
                rows: n,
            }
        })
    }

    /// 1 - rmse / baseline rmse: the share of the baseline's error removed (> 0 beats it).
    pub fn skill_over(&self, baseline: &Scores) -> f64 {
        if baseline.rmse > 0.0 {
            1.0 - self.rmse / baseline.rmse
        } else {
            0.0
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_a_hand_computation() {
        let scores = Scores::of([(1.0, 2.0), (4.0, 2.0)], 1.5).unwrap();
        assert!((scores.rmse - (2.5f64).sqrt()).abs() < 1e-12);
        assert!((scores.mae - 1.5).abs() < 1e-12);
        assert!((scores.mase - 1.0).abs() < 1e-12);
        assert_eq!(scores.rows, 2);
    }

    #[test]
    fn nothing_to_score_is_none() {
        assert!(Scores::of(std::iter::empty(), 1.0).is_none());
    }

    #[test]
    fn skill_is_the_share_of_error_removed() {
        let base = Scores {
            rmse: 10.0,
            mae: 0.0,
            mase: 0.0,
            rows: 1,
        };
        let better = Scores { rmse: 8.0, ..base };
        assert!((better.skill_over(&base) - 0.2).abs() < 1e-12);
    }
}
