//! A trained model as an ONNX graph: input `features` (the feature crate's row, in
//! `FeatureSpec::names` order, float32), output `forecast`. The change-predicting regressor is
//! followed by an addition of the target's current value, so the graph forecasts the level.

use edgeops_onnx::{BranchRule, ModelGraph, Regressor, Tree, TreeNode};

use crate::gbt::{Gbt, Node};
use crate::model::TrainedModel;

/// The smallest f32 not below `threshold`. For an f32 input `x`, `x < threshold` holds exactly
/// when `x < round_up(threshold)` holds, so ONNX Runtime's float comparison splits every f32
/// row as the f64 tree does.
fn round_up_to_f32(threshold: f64) -> f64 {
    let nearest = threshold as f32;
    if f64::from(nearest) >= threshold {
        f64::from(nearest)
    } else {
        f64::from(nearest.next_up())
    }
}

fn tree_of(nodes: &[Node]) -> Tree {
    Tree {
        nodes: nodes
            .iter()
            .map(|node| match node {
                Node::Leaf(value) => TreeNode::Leaf { value: *value },
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                    missing,
                } => TreeNode::Branch {
                    feature: *feature,
                    threshold: round_up_to_f32(*threshold),
                    rule: BranchRule::LessThan,
                    if_true: *left,
                    if_false: *right,
                    missing_goes_true: missing == left,
                },
            })
            .collect(),
    }
}

fn ensemble(model: &Gbt) -> Regressor {
    Regressor::TreeEnsemble {
        base: model.base,
        trees: model.trees.iter().map(|t| tree_of(t)).collect(),
    }
}

/// The graph of `model`; `metadata` goes into the ONNX model's metadata properties.
pub fn to_graph(
    model: &TrainedModel,
    feature_names: &[String],
    metadata: Vec<(String, String)>,
    doc: String,
    model_version: i64,
) -> ModelGraph {
    let (regressor, target_index) = match model {
        TrainedModel::Ridge {
            target_index,
            model,
        } => (
            Regressor::Linear {
                weights: model.weights.clone(),
                bias: model.bias,
            },
            *target_index,
        ),
        TrainedModel::Gbt {
            target_index,
            model,
        } => (ensemble(model), *target_index),
    };
    ModelGraph {
        feature_names: feature_names.to_vec(),
        regressor,
        plus_feature: Some(target_index),
        metadata,
        doc,
        model_version,
    }
}

#[cfg(test)]
mod tests {
    use super::round_up_to_f32;

    #[test]
    fn rounded_thresholds_split_f32_values_as_the_f64_threshold_does() {
        for threshold in [0.1, 1.0 / 3.0, 1021.7, -3.3, 5.0, 1e-9] {
            let t32 = round_up_to_f32(threshold);
            let below = (threshold as f32).next_down();
            for x in [below, threshold as f32, (threshold as f32).next_up()] {
                assert_eq!(
                    f64::from(x) < threshold,
                    f64::from(x) < t32,
                    "{x} vs {threshold}"
                );
            }
        }
    }
}
