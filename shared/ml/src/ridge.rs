//! Ridge regression on the change of the target (label minus its current value), so the penalty
//! shrinks the model towards persistence rather than towards zero. Solved in closed form on
//! standardised features; the weights are then mapped back to raw feature units, which is what
//! the ONNX graph multiplies by.

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ridge {
    /// Per raw feature; applied to the row as it is.
    pub weights: Vec<f64>,
    pub bias: f64,
    pub lambda: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("ridge: the normal equations are not positive definite (lambda {lambda})")]
pub struct RidgeError {
    pub lambda: f64,
}

/// Column means and standard deviations over `rows`; constant columns get a std of 0.
fn moments(dataset: &Dataset, rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let cols = dataset.cols();
    let n = rows.len().max(1) as f64;
    let mut mean = vec![0.0; cols];
    for i in rows {
        mean.iter_mut()
            .zip(dataset.row(*i))
            .for_each(|(m, v)| *m += v / n);
    }
    let mut var = vec![0.0; cols];
    for i in rows {
        for ((s, v), m) in var.iter_mut().zip(dataset.row(*i)).zip(&mean) {
            *s += (v - m).powi(2) / n;
        }
    }
    (mean, var.into_iter().map(f64::sqrt).collect())
}

impl Ridge {
    pub fn fit(dataset: &Dataset, rows: &[usize], lambda: f64) -> Result<Ridge, RidgeError> {
        let cols = dataset.cols();
        let (mean, std) = moments(dataset, rows);
        let scale: Vec<f64> = std
            .iter()
            .map(|s| if *s > 1e-12 { 1.0 / s } else { 0.0 })
            .collect();
        let deltas: Vec<f64> = rows
            .iter()
            .map(|i| dataset.y[*i] - dataset.current(*i))
            .collect();
        let delta_mean = deltas.iter().sum::<f64>() / rows.len().max(1) as f64;
        let mut gram = DMatrix::<f64>::zeros(cols, cols);
        let mut moment = DVector::<f64>::zeros(cols);
        let mut z = vec![0.0; cols];
        for (i, delta) in rows.iter().zip(&deltas) {
            for (((z, v), m), s) in z.iter_mut().zip(dataset.row(*i)).zip(&mean).zip(&scale) {
                *z = (v - m) * s;
            }
            for a in 0..cols {
                moment[a] += z[a] * (delta - delta_mean);
                for b in 0..=a {
                    gram[(a, b)] += z[a] * z[b];
                }
            }
        }
        let penalty = lambda * rows.len() as f64;
        for a in 0..cols {
            gram[(a, a)] += penalty.max(1e-9);
            for b in 0..a {
                gram[(b, a)] = gram[(a, b)];
            }
        }
        let solution = gram.cholesky().ok_or(RidgeError { lambda })?.solve(&moment);
        let weights: Vec<f64> = solution.iter().zip(&scale).map(|(w, s)| w * s).collect();
        let bias = delta_mean - weights.iter().zip(&mean).map(|(w, m)| w * m).sum::<f64>();
        Ok(Ridge {
            weights,
            bias,
            lambda,
        })
    }

    /// The forecast change of the target.
    pub fn predict_change(&self, row: &[f64]) -> f64 {
        self.bias
            + self
                .weights
                .iter()
                .zip(row)
                .map(|(w, v)| w * v)
                .sum::<f64>()
    }
}
