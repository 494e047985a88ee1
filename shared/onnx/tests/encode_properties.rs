//! Any well-formed small model encodes, decodes to the same node count, and evaluates finitely.
// Helpers outside #[test] fns may unwrap too: a failure there is a failed assertion.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use edgeops_onnx::proto::ModelProto;
use edgeops_onnx::{BranchRule, ModelGraph, Regressor, Tree, TreeNode, encode, evaluate};
use proptest::prelude::*;
use prost::Message;

const FEATURES: usize = 4;

/// A tree before it is laid out as indexed nodes.
#[derive(Debug, Clone)]
enum Shape {
    Leaf(f64),
    Branch {
        feature: usize,
        threshold: f64,
        leq: bool,
        missing_goes_true: bool,
        if_true: Box<Shape>,
        if_false: Box<Shape>,
    },
}

fn shape() -> impl Strategy<Value = Shape> {
    let leaf = (-1e3..1e3_f64).prop_map(Shape::Leaf);
    leaf.prop_recursive(4, 31, 2, |inner| {
        (
            0..FEATURES,
            -10.0..10.0_f64,
            any::<bool>(),
            any::<bool>(),
            inner.clone(),
            inner,
        )
            .prop_map(
                |(feature, threshold, leq, missing_goes_true, t, f)| Shape::Branch {
                    feature,
                    threshold,
                    leq,
                    missing_goes_true,
                    if_true: Box::new(t),
                    if_false: Box::new(f),
                },
            )
    })
}

/// Lays the shape out in pre-order, root at 0; returns the index it was placed at.
fn lay_out(shape: &Shape, nodes: &mut Vec<TreeNode>) -> usize {
    let at = nodes.len();
    match shape {
        Shape::Leaf(value) => nodes.push(TreeNode::Leaf { value: *value }),
        Shape::Branch {
            feature,
            threshold,
            leq,
            missing_goes_true,
            if_true,
            if_false,
        } => {
            nodes.push(TreeNode::Leaf { value: 0.0 });
            let t = lay_out(if_true, nodes);
            let f = lay_out(if_false, nodes);
            nodes[at] = TreeNode::Branch {
                feature: *feature,
                threshold: *threshold,
                rule: if *leq {
                    BranchRule::LessOrEqual
                } else {
                    BranchRule::LessThan
                },
                if_true: t,
                if_false: f,
                missing_goes_true: *missing_goes_true,
            };
        }
    }
    at
}

fn regressor() -> impl Strategy<Value = Regressor> {
    let linear = (
        prop::collection::vec(-1e3..1e3_f64, FEATURES),
        -1e3..1e3_f64,
    )
        .prop_map(|(weights, bias)| Regressor::Linear { weights, bias });
    let trees = (-10.0..10.0_f64, prop::collection::vec(shape(), 1..6)).prop_map(|(base, s)| {
        let trees = s
            .iter()
            .map(|shape| {
                let mut nodes = Vec::new();
                lay_out(shape, &mut nodes);
                Tree { nodes }
            })
            .collect();
        Regressor::TreeEnsemble { base, trees }
    });
    prop_oneof![linear, trees]
}

fn model() -> impl Strategy<Value = ModelGraph> {
    (regressor(), prop::option::of(0..FEATURES), any::<i64>()).prop_map(
        |(regressor, plus_feature, model_version)| ModelGraph {
            feature_names: (0..FEATURES).map(|i| format!("x{i}")).collect(),
            regressor,
            plus_feature,
            metadata: vec![("k".into(), "v".into())],
            doc: "property".into(),
            model_version,
        },
    )
}

fn node_count(graph: &ModelGraph) -> usize {
    let regressor = match &graph.regressor {
        Regressor::Linear { .. } => 2,
        Regressor::TreeEnsemble { .. } => 1,
    };
    regressor + if graph.plus_feature.is_some() { 2 } else { 0 }
}

proptest! {
    #[test]
    fn well_formed_models_encode(graph in model(), row in prop::collection::vec(-20.0..20.0_f32, FEATURES)) {
        let bytes = encode(&graph).unwrap();
        let decoded = ModelProto::decode(bytes.as_slice()).unwrap();
        prop_assert_eq!(decoded.model_version, graph.model_version);
        prop_assert_eq!(decoded.graph.unwrap().node.len(), node_count(&graph));
        prop_assert!(evaluate(&graph, &row).is_finite());
    }
}
