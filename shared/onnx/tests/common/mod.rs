//! Graphs shared by the tests of this crate.

use edgeops_onnx::{BranchRule, ModelGraph, Regressor, Tree, TreeNode};

pub fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("f{i}")).collect()
}

pub fn stump(feature: usize, threshold: f64, low: f64, high: f64) -> Tree {
    Tree {
        nodes: vec![
            TreeNode::Branch {
                feature,
                threshold,
                rule: BranchRule::LessOrEqual,
                if_true: 1,
                if_false: 2,
                missing_goes_true: true,
            },
            TreeNode::Leaf { value: low },
            TreeNode::Leaf { value: high },
        ],
    }
}

pub fn linear() -> ModelGraph {
    ModelGraph {
        feature_names: names(3),
        regressor: Regressor::Linear {
            weights: vec![0.5, -2.0, 1.25],
            bias: 3.0,
        },
        plus_feature: Some(2),
        metadata: vec![
            ("edgeops.model_id".into(), "m-1".into()),
            ("edgeops.target".into(), "temperature".into()),
        ],
        doc: "linear test model".into(),
        model_version: 7,
    }
}

pub fn ensemble() -> ModelGraph {
    ModelGraph {
        feature_names: names(3),
        regressor: Regressor::TreeEnsemble {
            base: 0.25,
            trees: vec![stump(0, 1.5, -1.0, 1.0), stump(1, -0.5, 2.0, 4.0)],
        },
        plus_feature: None,
        metadata: vec![],
        doc: String::new(),
        model_version: 1,
    }
}
