//! A tree ensemble as one `ai.onnx.ml.TreeEnsembleRegressor` node (ml opset 3).
//!
//! The operator describes nodes as parallel arrays (`nodes_*`, one entry per node of every tree)
//! and leaf values as "targets" (`target_*`, one entry per leaf). Node ids are the indices in
//! [`Tree::nodes`], which satisfies the operator's "ids start at 0 and increment by 1" rule.
//! Thresholds and leaf values use the float attributes (not the `*_as_tensor` double ones):
//! with float32 input ONNX Runtime compares in f32 whichever is given.

use crate::build::{attr_floats, attr_int, attr_ints, attr_string, attr_strings, node, to_i64};
use crate::error::ExportError;
use crate::graph::{Tree, TreeNode};
use crate::proto::NodeProto;

/// The `ai.onnx.ml` domain name.
pub const ML_DOMAIN: &str = "ai.onnx.ml";

/// Parallel attribute arrays, filled tree by tree.
#[derive(Default)]
struct Arrays {
    tree_ids: Vec<i64>,
    node_ids: Vec<i64>,
    feature_ids: Vec<i64>,
    values: Vec<f32>,
    modes: Vec<&'static str>,
    true_ids: Vec<i64>,
    false_ids: Vec<i64>,
    missing_true: Vec<i64>,
    target_tree_ids: Vec<i64>,
    target_node_ids: Vec<i64>,
    target_weights: Vec<f32>,
}

/// The regressor node reading `input` ([N, F] float) and writing `output` ([N, 1] float).
/// Expects a validated ensemble (indices in range).
pub(crate) fn ensemble_node(
    base: f64,
    trees: &[Tree],
    input: &str,
    output: &str,
) -> Result<NodeProto, ExportError> {
    let mut a = Arrays::default();
    for (t, tree) in trees.iter().enumerate() {
        let t = to_i64(t, "tree index")?;
        for (n, tree_node) in tree.nodes.iter().enumerate() {
            let n = to_i64(n, "node index")?;
            a.tree_ids.push(t);
            a.node_ids.push(n);
            match tree_node {
                TreeNode::Branch {
                    feature,
                    threshold,
                    rule,
                    if_true,
                    if_false,
                    missing_goes_true,
                } => {
                    a.feature_ids.push(to_i64(*feature, "feature index")?);
                    a.values.push(*threshold as f32);
                    a.modes.push(rule.onnx_mode());
                    a.true_ids.push(to_i64(*if_true, "node index")?);
                    a.false_ids.push(to_i64(*if_false, "node index")?);
                    a.missing_true.push(i64::from(*missing_goes_true));
                }
                TreeNode::Leaf { value } => {
                    // Leaves carry placeholders in the node arrays; their value is a target.
                    a.feature_ids.push(0);
                    a.values.push(0.0);
                    a.modes.push("LEAF");
                    a.true_ids.push(0);
                    a.false_ids.push(0);
                    a.missing_true.push(0);
                    a.target_tree_ids.push(t);
                    a.target_node_ids.push(n);
                    a.target_weights.push(*value as f32);
                }
            }
        }
    }
    let target_ids = vec![0; a.target_weights.len()];
    let attributes = vec![
        attr_string("aggregate_function", "SUM"),
        attr_floats("base_values", vec![base as f32]),
        attr_int("n_targets", 1),
        attr_ints("nodes_falsenodeids", a.false_ids),
        attr_ints("nodes_featureids", a.feature_ids),
        attr_ints("nodes_missing_value_tracks_true", a.missing_true),
        attr_strings("nodes_modes", a.modes),
        attr_ints("nodes_nodeids", a.node_ids),
        attr_ints("nodes_treeids", a.tree_ids),
        attr_ints("nodes_truenodeids", a.true_ids),
        attr_floats("nodes_values", a.values),
        attr_string("post_transform", "NONE"),
        attr_ints("target_ids", target_ids),
        attr_ints("target_nodeids", a.target_node_ids),
        attr_ints("target_treeids", a.target_tree_ids),
        attr_floats("target_weights", a.target_weights),
    ];
    Ok(node(
        "TreeEnsembleRegressor",
        ML_DOMAIN,
        "tree_ensemble",
        [input],
        [output],
        attributes,
    ))
}
