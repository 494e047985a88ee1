//! Models and rows shared by the integration tests: built with edgeops-onnx, checked against
//! its reference evaluator.
#![allow(dead_code)] // each test binary uses a different part

use edgeops_inference::Model;
use edgeops_onnx::{BranchRule, ModelGraph, Regressor, Tree, TreeNode, encode, evaluate};

/// splitmix64: deterministic test data without a rand dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }
}

pub fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("feature_{i}")).collect()
}

pub fn graph(features: usize, regressor: Regressor, plus_feature: Option<usize>) -> ModelGraph {
    ModelGraph {
        feature_names: names(features),
        regressor,
        plus_feature,
        metadata: vec![("edgeops.test".into(), "1".into())],
        doc: "integration test".into(),
        model_version: 1,
    }
}

pub fn load(graph: &ModelGraph) -> Model {
    Model::load(&encode(graph).unwrap()).unwrap()
}

pub fn branch(
    feature: usize,
    threshold: f64,
    rule: BranchRule,
    if_true: usize,
    if_false: usize,
    missing_goes_true: bool,
) -> TreeNode {
    TreeNode::Branch {
        feature,
        threshold,
        rule,
        if_true,
        if_false,
        missing_goes_true,
    }
}

pub fn leaf(value: f64) -> TreeNode {
    TreeNode::Leaf { value }
}

/// A full tree of `depth` levels of branches over `features` features, with node ids shuffled
/// (root stays 0) so the ids are not in any traversal order.
pub fn random_tree(rng: &mut Rng, depth: u32, features: usize) -> Tree {
    let count = (1_usize << (depth + 1)) - 1;
    // position in heap order -> id; 0 stays 0, the rest shuffled (Fisher-Yates).
    let mut id: Vec<usize> = (0..count).collect();
    for i in (2..count).rev() {
        let j = 1 + rng.below(i);
        id.swap(i, j);
    }
    let mut nodes = vec![leaf(0.0); count];
    for heap in 0..count {
        let (l, r) = (2 * heap + 1, 2 * heap + 2);
        nodes[id[heap]] = if l < count {
            let rule = if rng.coin() {
                BranchRule::LessThan
            } else {
                BranchRule::LessOrEqual
            };
            let threshold = rng.uniform(-2.0, 2.0);
            branch(
                rng.below(features),
                threshold,
                rule,
                id[l],
                id[r],
                rng.coin(),
            )
        } else {
            leaf(rng.uniform(-1.0, 1.0))
        };
    }
    Tree { nodes }
}

/// Every (feature, threshold as f32) a model's branches test, to build rows that sit exactly on
/// a threshold.
pub fn thresholds(graph: &ModelGraph) -> Vec<(usize, f32)> {
    let Regressor::TreeEnsemble { trees, .. } = &graph.regressor else {
        return vec![];
    };
    trees
        .iter()
        .flat_map(|t| &t.nodes)
        .filter_map(|n| match n {
            TreeNode::Branch {
                feature, threshold, ..
            } => Some((*feature, *threshold as f32)),
            TreeNode::Leaf { .. } => None,
        })
        .collect()
}

/// `count` rows: uniform values, some columns on a threshold, some NaN.
pub fn rows(rng: &mut Rng, graph: &ModelGraph, count: usize) -> Vec<Vec<f32>> {
    let features = graph.feature_names.len();
    let on_threshold = thresholds(graph);
    (0..count)
        .map(|_| {
            let mut row: Vec<f32> = (0..features)
                .map(|_| rng.uniform(-3.0, 3.0) as f32)
                .collect();
            for _ in 0..features / 2 {
                if !on_threshold.is_empty() && rng.coin() {
                    let (f, t) = on_threshold[rng.below(on_threshold.len())];
                    row[f] = t;
                }
            }
            if graph.plus_feature.is_none() && rng.below(8) == 0 {
                row[rng.below(features)] = f32::NAN;
            }
            row
        })
        .collect()
}

/// ONNX Runtime's answer equals the reference within 1e-5 relative (1e-5 absolute near zero);
/// NaN (a linear model fed a missing value) must be NaN on both sides.
pub fn assert_close(got: f32, expected: f32, context: &str) {
    if expected.is_nan() || got.is_nan() {
        assert!(
            got.is_nan() && expected.is_nan(),
            "{context}: onnxruntime {got}, reference {expected}"
        );
        return;
    }
    let tolerance = 1e-5 * expected.abs().max(1.0);
    assert!(
        (got - expected).abs() <= tolerance,
        "{context}: onnxruntime {got}, reference {expected}"
    );
}

/// Checks `predict_one` and one batched `predict` against `evaluate` on every row.
pub fn check_against_reference(graph: &ModelGraph, rows: &[Vec<f32>]) {
    let model = load(graph);
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    let batch = model.predict(&flat, rows.len()).unwrap();
    assert_eq!(batch.len(), rows.len());
    for (i, row) in rows.iter().enumerate() {
        let expected = evaluate(graph, row);
        assert_close(
            model.predict_one(row).unwrap(),
            expected,
            &format!("row {i} {row:?} one"),
        );
        assert_close(batch[i], expected, &format!("row {i} {row:?} batch"));
    }
}
