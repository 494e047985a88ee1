//! `encode` refuses graphs that would be invalid or would predict garbage, naming the culprit.
// Helpers outside #[test] fns may unwrap too: a failure there is a failed assertion.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use edgeops_onnx::{BranchRule, ExportError, ModelGraph, Regressor, Tree, TreeNode, encode};

fn refused(graph: &ModelGraph) -> ExportError {
    encode(graph).unwrap_err()
}

fn with_trees(trees: Vec<Tree>) -> ModelGraph {
    ModelGraph {
        regressor: Regressor::TreeEnsemble { base: 0.0, trees },
        ..common::ensemble()
    }
}

fn branch(feature: usize, if_true: usize, if_false: usize) -> TreeNode {
    TreeNode::Branch {
        feature,
        threshold: 0.0,
        rule: BranchRule::LessThan,
        if_true,
        if_false,
        missing_goes_true: false,
    }
}

const LEAF: TreeNode = TreeNode::Leaf { value: 1.0 };

#[test]
fn features_must_be_present_named_and_unique() {
    let mut g = common::linear();
    g.feature_names.clear();
    assert_eq!(refused(&g), ExportError::NoFeatures);
    let mut g = common::linear();
    g.feature_names[1] = String::new();
    assert_eq!(refused(&g), ExportError::EmptyFeatureName { index: 1 });
    let mut g = common::linear();
    g.feature_names[2] = "f0".into();
    assert_eq!(
        refused(&g),
        ExportError::DuplicateFeatureName { name: "f0".into() }
    );
}

#[test]
fn linear_needs_one_finite_weight_per_feature() {
    let mut g = common::linear();
    g.regressor = Regressor::Linear {
        weights: vec![1.0, 2.0],
        bias: 0.0,
    };
    assert_eq!(
        refused(&g),
        ExportError::WeightCount {
            expected: 3,
            got: 2
        }
    );
    g.regressor = Regressor::Linear {
        weights: vec![1.0, f64::NAN, 0.0],
        bias: 0.0,
    };
    assert!(refused(&g).to_string().contains("linear weight 1"));
    // Finite in f64, infinite once stored as f32.
    g.regressor = Regressor::Linear {
        weights: vec![1.0, 2.0, 3.0],
        bias: 1e39,
    };
    assert!(matches!(refused(&g), ExportError::NonFinite { what, .. } if what == "linear bias"));
}

#[test]
fn trees_must_be_present_and_non_empty() {
    assert_eq!(refused(&with_trees(vec![])), ExportError::NoTrees);
    let empty = Tree { nodes: vec![] };
    assert_eq!(
        refused(&with_trees(vec![common::stump(0, 0.0, 1.0, 2.0), empty])),
        ExportError::EmptyTree { tree: 1 }
    );
}

#[test]
fn branches_must_point_inside_the_tree_and_the_features() {
    let bad_feature = Tree {
        nodes: vec![branch(3, 1, 2), LEAF, LEAF],
    };
    assert_eq!(
        refused(&with_trees(vec![bad_feature])),
        ExportError::FeatureOutOfRange {
            tree: 0,
            node: 0,
            feature: 3,
            feature_count: 3
        }
    );
    let bad_child = Tree {
        nodes: vec![branch(0, 1, 3), LEAF, LEAF],
    };
    let err = refused(&with_trees(vec![bad_child]));
    assert_eq!(
        err.to_string(),
        "tree 0 node 0 points to child 3, but the tree has 3 nodes"
    );
}

#[test]
fn nodes_must_form_a_single_tree() {
    let shared_child = Tree {
        nodes: vec![branch(0, 1, 1), LEAF],
    };
    assert_eq!(
        refused(&with_trees(vec![shared_child])),
        ExportError::NotATree { tree: 0, node: 1 }
    );
    let cycle = Tree {
        nodes: vec![branch(0, 1, 2), branch(1, 0, 2), LEAF],
    };
    assert!(matches!(
        refused(&with_trees(vec![cycle])),
        ExportError::NotATree { tree: 0, .. }
    ));
    let orphan = Tree {
        nodes: vec![branch(0, 1, 2), LEAF, LEAF, LEAF],
    };
    assert_eq!(
        refused(&with_trees(vec![orphan])),
        ExportError::UnreachableNode { tree: 0, node: 3 }
    );
}

#[test]
fn thresholds_leaves_and_base_must_be_finite() {
    let mut nan_threshold = common::stump(0, 0.0, 1.0, 2.0);
    if let TreeNode::Branch { threshold, .. } = &mut nan_threshold.nodes[0] {
        *threshold = f64::NAN;
    }
    let err = refused(&with_trees(vec![nan_threshold]));
    assert!(err.to_string().contains("tree 0 node 0 threshold"));
    let inf_leaf = common::stump(0, 0.0, f64::INFINITY, 2.0);
    assert!(
        refused(&with_trees(vec![inf_leaf]))
            .to_string()
            .contains("tree 0 leaf 1 value")
    );
    let mut g = common::ensemble();
    g.regressor = Regressor::TreeEnsemble {
        base: f64::NEG_INFINITY,
        trees: vec![common::stump(0, 0.0, 1.0, 2.0)],
    };
    assert!(refused(&g).to_string().contains("base"));
}

#[test]
fn plus_feature_and_metadata_are_checked() {
    let mut g = common::linear();
    g.plus_feature = Some(3);
    assert_eq!(
        refused(&g),
        ExportError::PlusFeatureOutOfRange {
            index: 3,
            feature_count: 3
        }
    );
    let mut g = common::linear();
    g.metadata.push(("edgeops.target".into(), "other".into()));
    assert_eq!(
        refused(&g),
        ExportError::DuplicateMetadataKey {
            key: "edgeops.target".into()
        }
    );
    let mut g = common::linear();
    g.metadata.push((String::new(), "x".into()));
    assert_eq!(refused(&g), ExportError::EmptyMetadataKey);
}

#[test]
fn a_single_leaf_tree_is_valid() {
    let g = with_trees(vec![Tree { nodes: vec![LEAF] }]);
    assert!(encode(&g).is_ok());
}
