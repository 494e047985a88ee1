//! ONNX Runtime computes what `edgeops_onnx::evaluate` says the exported graph means.
// Helpers outside #[test] fns may unwrap too: a failure there is a failed assertion.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Rng, branch, check_against_reference, graph, leaf, random_tree, rows};
use edgeops_onnx::{BranchRule, Regressor, Tree};

#[test]
fn linear_model_with_known_weights() {
    let linear = Regressor::Linear {
        weights: vec![0.5, -2.0, 1.25, 0.0],
        bias: 3.0,
    };
    let g = graph(4, linear.clone(), None);
    let model = common::load(&g);
    // 0.5*2 - 2*1 + 1.25*4 + 0*9 + 3 = 7
    assert_eq!(model.predict_one(&[2.0, 1.0, 4.0, 9.0]).unwrap(), 7.0);
    check_against_reference(&g, &rows(&mut Rng::new(1), &g, 500));
    let with_target = graph(4, linear, Some(3));
    // Trained on the change: 7 + current value 9.
    assert_eq!(
        common::load(&with_target)
            .predict_one(&[2.0, 1.0, 4.0, 9.0])
            .unwrap(),
        16.0
    );
    check_against_reference(&with_target, &rows(&mut Rng::new(2), &with_target, 500));
}

/// Three hand-made trees: both rules, both missing directions, a single-leaf tree.
fn hand_made_trees() -> Vec<Tree> {
    let lt = BranchRule::LessThan;
    let leq = BranchRule::LessOrEqual;
    vec![
        Tree {
            nodes: vec![
                branch(0, 0.5, leq, 1, 2, true),
                branch(1, -1.0, lt, 3, 4, false),
                leaf(10.0),
                leaf(-3.0),
                leaf(4.5),
            ],
        },
        // Children listed before their parent's sibling, ids out of traversal order.
        Tree {
            nodes: vec![
                branch(2, 0.1, lt, 4, 1, false),
                leaf(0.25),
                leaf(-0.75),
                leaf(1.5),
                branch(0, -0.3, leq, 3, 2, true),
            ],
        },
        Tree {
            nodes: vec![leaf(0.125)],
        },
    ]
}

#[test]
fn hand_made_ensemble_with_plus_feature_at_thresholds_and_nan() {
    let g = graph(
        3,
        Regressor::TreeEnsemble {
            base: 20.0,
            trees: hand_made_trees(),
        },
        Some(1),
    );
    let model = common::load(&g);
    // Tree 0: x0=0.5 <= 0.5 -> node 1; x1=-1 < -1 false -> 4.5. Tree 1: x2=0.1 < 0.1 false ->
    // 0.25. Tree 2: 0.125. Sum 4.875 + base 20 + x1 (-1) = 23.875.
    assert_eq!(model.predict_one(&[0.5, -1.0, 0.1]).unwrap(), 23.875);
    // Threshold 0.1 is stored as 0.1f32: the row value 0.1f32 sits exactly on it.
    let exact: Vec<Vec<f32>> = vec![
        vec![0.5, -1.0, 0.1],
        vec![0.5_f32.next_up(), -1.0, 0.1_f32.next_down()],
        vec![f32::NAN, -1.0_f32.next_down(), f32::NAN],
        vec![-0.3, 2.0, f32::NAN],
        vec![f32::NAN, 0.0, 0.1],
    ];
    check_against_reference(&g, &exact);
    check_against_reference(&g, &rows(&mut Rng::new(3), &g, 1000));
}

#[test]
fn random_ensemble_of_50_trees_depth_5_over_20_features() {
    let mut rng = Rng::new(4);
    let trees = (0..50).map(|_| random_tree(&mut rng, 5, 20)).collect();
    let g = graph(20, Regressor::TreeEnsemble { base: 1.5, trees }, None);
    check_against_reference(&g, &rows(&mut rng, &g, 2000));
    let with_target = graph(20, g.regressor.clone(), Some(7));
    check_against_reference(&with_target, &rows(&mut rng, &with_target, 500));
}
