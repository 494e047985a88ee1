//! Gradient-boosted trees (forust-ml, an XGBoost-style booster) on the change of the target,
//! with early stopping on a validation tail of the training period. The fitted trees are kept as
//! plain nodes: the Rust forecast walks them exactly as ONNX Runtime's TreeEnsembleRegressor
//! does, which is what makes the exported model's parity check meaningful.

use forust_ml::gradientbooster::GradientBooster;
use forust_ml::{Matrix, objective::ObjectiveType};
use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbtParams {
    pub max_iterations: usize,
    pub learning_rate: f32,
    pub max_depth: usize,
    pub l2: f32,
    pub min_leaf_weight: f32,
    pub early_stopping_rounds: usize,
    pub subsample: f32,
    pub seed: u64,
}

/// Tuned on the Beijing data's training period (see docs/ml.md): shallow trees, slow learning.
impl Default for GbtParams {
    fn default() -> Self {
        Self {
            max_iterations: 600,
            learning_rate: 0.03,
            max_depth: 4,
            l2: 1.0,
            min_leaf_weight: 50.0,
            early_stopping_rounds: 50,
            subsample: 0.8,
            seed: 7,
        }
    }
}

/// A split `x[feature] < threshold` (missing values take `missing`), or a leaf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Node {
    Split {
        feature: usize,
        threshold: f64,
        left: usize,
        right: usize,
        missing: usize,
    },
    Leaf(f64),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gbt {
    pub base: f64,
    pub trees: Vec<Vec<Node>>,
    pub params: GbtParams,
}

#[derive(Debug, thiserror::Error)]
#[error("gradient-boosted trees: {0}")]
pub struct GbtError(String);

/// Column-major copy of `rows` (forust's layout) and their labels: the change of the target.
fn columns(dataset: &Dataset, rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let mut data = vec![0.0; rows.len() * dataset.cols()];
    for (r, i) in rows.iter().enumerate() {
        for (c, v) in dataset.row(*i).iter().enumerate() {
            data[c * rows.len() + r] = *v;
        }
    }
    let labels = rows
        .iter()
        .map(|i| dataset.y[*i] - dataset.current(*i))
        .collect();
    (data, labels)
}

impl Gbt {
    pub fn fit(
        dataset: &Dataset,
        train: &[usize],
        validation: Option<&[usize]>,
        params: &GbtParams,
    ) -> Result<Gbt, GbtError> {
        let (train_data, train_labels) = columns(dataset, train);
        let (valid_data, valid_labels) = columns(dataset, validation.unwrap_or(&[]));
        let train_matrix = Matrix::new(&train_data, train.len(), dataset.cols());
        let valid_matrix = Matrix::new(&valid_data, valid_labels.len(), dataset.cols());
        let train_weights = vec![1.0; train.len()];
        let valid_weights = vec![1.0; valid_labels.len()];
        let booster = GradientBooster::default()
            .set_objective_type(ObjectiveType::SquaredLoss)
            .set_iterations(params.max_iterations)
            .set_learning_rate(params.learning_rate)
            .set_max_depth(params.max_depth)
            .set_l2(params.l2)
            .set_min_leaf_weight(params.min_leaf_weight)
            .set_subsample(params.subsample)
            .set_seed(params.seed)
            .set_allow_missing_splits(false);
        let (mut booster, evaluation) = if validation.is_some() {
            let booster = booster
                .set_evaluation_metric(Some(forust_ml::metric::Metric::RootMeanSquaredError))
                .set_early_stopping_rounds(Some(params.early_stopping_rounds));
            let evaluation = vec![(valid_matrix, &valid_labels[..], &valid_weights[..])];
            (booster, Some(evaluation))
        } else {
            (booster, None)
        };
        booster
            .fit(&train_matrix, &train_labels, &train_weights, evaluation)
            .map_err(|e| GbtError(e.to_string()))?;
        let used = booster.prediction_iteration.unwrap_or(booster.trees.len());
        let trees = booster.trees[..used.min(booster.trees.len())]
            .iter()
            .map(|tree| {
                // forust's node type is not nameable (private module), its fields are public.
                tree.nodes
                    .iter()
                    .map(|node| {
                        if node.is_leaf {
                            Node::Leaf(f64::from(node.weight_value))
                        } else {
                            Node::Split {
                                feature: node.split_feature,
                                threshold: node.split_value,
                                left: node.left_child,
                                right: node.right_child,
                                missing: node.missing_node,
                            }
                        }
                    })
                    .collect()
            })
            .collect();
        Ok(Gbt {
            base: booster.base_score,
            trees,
            params: params.clone(),
        })
    }

    /// The forecast change of the target.
    pub fn predict_change(&self, row: &[f64]) -> f64 {
        self.base
            + self
                .trees
                .iter()
                .map(|tree| leaf_value(tree, row))
                .sum::<f64>()
    }
}

fn leaf_value(tree: &[Node], row: &[f64]) -> f64 {
    let mut at = 0;
    loop {
        match tree.get(at) {
            Some(Node::Leaf(value)) => return *value,
            Some(Node::Split {
                feature,
                threshold,
                left,
                right,
                missing,
            }) => {
                let value = row.get(*feature).copied().unwrap_or(f64::NAN);
                at = if value.is_nan() {
                    *missing
                } else if value < *threshold {
                    *left
                } else {
                    *right
                };
            }
            None => return 0.0,
        }
    }
}
