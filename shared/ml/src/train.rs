//! One training run's pure part: split by time, tune each candidate on a validation tail of the
//! training period, pick the winner on validation (the holdout stays untouched until scoring),
//! and score every candidate and the baselines on the holdout.

use std::time::Instant;

use edgeops_contracts::training::Scores;
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, DatasetError, Split};
use crate::gbt::{Gbt, GbtParams};
use crate::metrics::{mase_scale, persistence, seasonal_naive};
use crate::model::TrainedModel;
use crate::ridge::Ridge;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Share of the period (by time) held out for scoring.
    pub holdout_share: f64,
    /// Share of the training period used to tune (ridge's penalty, the trees' early stop).
    pub validation_share: f64,
    pub min_train_rows: usize,
    pub min_holdout_rows: usize,
    pub ridge_lambdas: Vec<f64>,
    pub gbt: GbtParams,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            holdout_share: 0.2,
            validation_share: 0.2,
            min_train_rows: 200,
            min_holdout_rows: 48,
            ridge_lambdas: vec![1e-4, 1e-3, 1e-2, 1e-1, 1.0],
            gbt: GbtParams::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error(transparent)]
    Ridge(#[from] crate::ridge::RidgeError),
    #[error(transparent)]
    Gbt(#[from] crate::gbt::GbtError),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateReport {
    pub name: String,
    /// The tuned hyper-parameters.
    pub params: serde_json::Value,
    pub validation_rmse: f64,
    pub holdout: Scores,
    /// 1 - rmse / persistence rmse on the holdout.
    pub skill_vs_persistence: f64,
    pub fit_seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    pub train_rows: usize,
    pub holdout_rows: usize,
    pub dropped_rows: usize,
    pub holdout_fingerprint: String,
    /// First bin of the holdout period; training labels all lie before it.
    pub holdout_from: chrono::DateTime<chrono::Utc>,
    pub persistence: Scores,
    pub seasonal_naive: Option<Scores>,
    pub candidates: Vec<CandidateReport>,
    /// Index into `candidates`.
    pub winner: usize,
}

impl TrainReport {
    pub fn winner(&self) -> &CandidateReport {
        &self.candidates[self.winner]
    }
}

fn rmse_on(model: &TrainedModel, dataset: &Dataset, rows: &[usize]) -> f64 {
    Scores::of(
        rows.iter()
            .map(|i| (model.predict(dataset.row(*i)), dataset.y[*i])),
        1.0,
    )
    .map_or(f64::INFINITY, |s| s.rmse)
}

struct Fitted {
    model: TrainedModel,
    params: serde_json::Value,
    validation_rmse: f64,
    seconds: f64,
}

fn fit_ridge(
    dataset: &Dataset,
    inner: &Split,
    train: &[usize],
    lambdas: &[f64],
) -> Result<Fitted, TrainError> {
    let started = Instant::now();
    let target_index = dataset.target_index;
    let mut best: Option<(f64, f64)> = None;
    for lambda in lambdas {
        let model = TrainedModel::Ridge {
            target_index,
            model: Ridge::fit(dataset, &inner.train, *lambda)?,
        };
        let rmse = rmse_on(&model, dataset, &inner.holdout);
        if best.is_none_or(|(_, b)| rmse < b) {
            best = Some((*lambda, rmse));
        }
    }
    let (lambda, validation_rmse) = best.unwrap_or((1.0, f64::INFINITY));
    let model = TrainedModel::Ridge {
        target_index,
        model: Ridge::fit(dataset, train, lambda)?,
    };
    Ok(Fitted {
        model,
        params: serde_json::json!({ "lambda": lambda, "target": "change" }),
        validation_rmse,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Early stopping on the validation tail finds the number of trees; the final model is then
/// grown to that size on the whole training period (its most recent part included).
fn fit_gbt(
    dataset: &Dataset,
    inner: &Split,
    train: &[usize],
    params: &GbtParams,
) -> Result<Fitted, TrainError> {
    let started = Instant::now();
    let tuned = TrainedModel::Gbt {
        target_index: dataset.target_index,
        model: Gbt::fit(dataset, &inner.train, Some(&inner.holdout), params)?,
    };
    let validation_rmse = rmse_on(&tuned, dataset, &inner.holdout);
    let trees = match &tuned {
        TrainedModel::Gbt { model, .. } => model.trees.len(),
        TrainedModel::Ridge { .. } => 0,
    };
    let settings = GbtParams {
        max_iterations: trees.max(1),
        ..params.clone()
    };
    let model = TrainedModel::Gbt {
        target_index: dataset.target_index,
        model: Gbt::fit(dataset, train, None, &settings)?,
    };
    Ok(Fitted {
        model,
        params: serde_json::json!({ "trees": trees, "settings": params, "target": "change" }),
        validation_rmse,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Trains every candidate on `dataset`; returns the report and the winning model.
pub fn train(
    dataset: &Dataset,
    config: &TrainConfig,
) -> Result<(TrainReport, TrainedModel), TrainError> {
    let split = dataset.split(
        config.holdout_share,
        config.min_train_rows,
        config.min_holdout_rows,
    )?;
    let inner = dataset.split_indices(
        &split.train,
        config.validation_share,
        config.min_train_rows / 2,
        config.min_holdout_rows / 2,
    )?;
    let scale = mase_scale(dataset, &split.train);
    let persistence_scores =
        persistence(dataset, &split.holdout, scale).ok_or(DatasetError::TooFewRows {
            part: "the holdout",
            have: 0,
            need: config.min_holdout_rows,
        })?;
    let fitted = vec![
        fit_ridge(dataset, &inner, &split.train, &config.ridge_lambdas)?,
        fit_gbt(dataset, &inner, &split.train, &config.gbt)?,
    ];
    let candidates: Vec<CandidateReport> = fitted
        .iter()
        .map(|f| {
            let holdout = Scores::of(
                split
                    .holdout
                    .iter()
                    .map(|i| (f.model.predict(dataset.row(*i)), dataset.y[*i])),
                scale,
            )
            .unwrap_or(persistence_scores);
            CandidateReport {
                name: f.model.name().to_owned(),
                params: f.params.clone(),
                validation_rmse: f.validation_rmse,
                skill_vs_persistence: holdout.skill_over(&persistence_scores),
                holdout,
                fit_seconds: f.seconds,
            }
        })
        .collect();
    let winner = (0..fitted.len())
        .min_by(|a, b| {
            fitted[*a]
                .validation_rmse
                .total_cmp(&fitted[*b].validation_rmse)
        })
        .unwrap_or(0);
    let report = TrainReport {
        train_rows: split.train.len(),
        holdout_rows: split.holdout.len(),
        dropped_rows: dataset.dropped_rows,
        holdout_fingerprint: dataset.holdout_fingerprint(&split.holdout),
        seasonal_naive: seasonal_naive(dataset, &split.holdout, scale),
        persistence: persistence_scores,
        holdout_from: split.cutoff,
        candidates,
        winner,
    };
    let model = fitted
        .into_iter()
        .nth(winner)
        .map(|f| f.model)
        .ok_or(DatasetError::NoRows)?;
    Ok((report, model))
}
