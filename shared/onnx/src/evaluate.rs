//! The reference semantics of an exported graph, in plain Rust.
//!
//! Training uses it to check that what it exports predicts what it trained, and the inference
//! tests hold ONNX Runtime to it. It mirrors ONNX Runtime's CPU kernels in f32: weights and
//! thresholds are rounded to f32 (as the file stores them), inputs are compared as f32, tree
//! leaves are summed in tree order starting from 0 and the base is added last; the linear dot
//! product is summed left to right (ORT's GEMM may sum in another order: expect agreement to a
//! few ulps there, exact agreement for trees).

use crate::graph::{ModelGraph, Regressor, Tree, TreeNode};

/// What the exported graph outputs for one feature row.
///
/// Assumes `graph` passed [`crate::encode`]'s validation and `row.len()` equals the feature
/// count; it never panics otherwise, but then a missing column reads as NaN and a malformed tree
/// evaluates to NaN.
pub fn evaluate(graph: &ModelGraph, row: &[f32]) -> f32 {
    let column = |i: usize| row.get(i).copied().unwrap_or(f32::NAN);
    let regressed = match &graph.regressor {
        Regressor::Linear { weights, bias } => {
            let dot = weights
                .iter()
                .enumerate()
                .fold(0.0_f32, |acc, (i, w)| acc + column(i) * (*w as f32));
            dot + *bias as f32
        }
        Regressor::TreeEnsemble { base, trees } => {
            let sum = trees
                .iter()
                .fold(0.0_f32, |acc, tree| acc + leaf_value(tree, &column));
            sum + *base as f32
        }
    };
    match graph.plus_feature {
        Some(i) => regressed + column(i),
        None => regressed,
    }
}

/// The value of the leaf `row` reaches, as f32. A walk longer than the tree (a cycle) or a
/// dangling child yields NaN rather than looping or panicking.
fn leaf_value(tree: &Tree, column: &impl Fn(usize) -> f32) -> f32 {
    let mut at = 0_usize;
    for _ in 0..=tree.nodes.len() {
        match tree.nodes.get(at) {
            None => return f32::NAN,
            Some(TreeNode::Leaf { value }) => return *value as f32,
            Some(TreeNode::Branch {
                feature,
                threshold,
                rule,
                if_true,
                if_false,
                missing_goes_true,
            }) => {
                let x = column(*feature);
                let goes_true = if x.is_nan() {
                    *missing_goes_true
                } else {
                    rule.holds(x, *threshold as f32)
                };
                at = if goes_true { *if_true } else { *if_false };
            }
        }
    }
    f32::NAN
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::BranchRule;

    fn graph(regressor: Regressor, plus_feature: Option<usize>) -> ModelGraph {
        ModelGraph {
            feature_names: vec!["a".into(), "b".into()],
            regressor,
            plus_feature,
            metadata: vec![],
            doc: String::new(),
            model_version: 1,
        }
    }

    fn stump(rule: BranchRule, missing_goes_true: bool) -> Tree {
        Tree {
            nodes: vec![
                TreeNode::Branch {
                    feature: 1,
                    threshold: 0.5,
                    rule,
                    if_true: 1,
                    if_false: 2,
                    missing_goes_true,
                },
                TreeNode::Leaf { value: -1.0 },
                TreeNode::Leaf { value: 1.0 },
            ],
        }
    }

    #[test]
    fn linear_is_dot_plus_bias_plus_target() {
        let linear = Regressor::Linear {
            weights: vec![2.0, -1.0],
            bias: 0.5,
        };
        assert_eq!(evaluate(&graph(linear.clone(), None), &[3.0, 4.0]), 2.5);
        assert_eq!(evaluate(&graph(linear, Some(0)), &[3.0, 4.0]), 5.5);
    }

    #[test]
    fn rules_differ_exactly_at_the_threshold() {
        let at = [0.0, 0.5];
        let lt = graph(
            Regressor::TreeEnsemble {
                base: 10.0,
                trees: vec![stump(BranchRule::LessThan, false)],
            },
            None,
        );
        let leq = graph(
            Regressor::TreeEnsemble {
                base: 10.0,
                trees: vec![stump(BranchRule::LessOrEqual, false)],
            },
            None,
        );
        assert_eq!(evaluate(&lt, &at), 11.0);
        assert_eq!(evaluate(&leq, &at), 9.0);
    }

    #[test]
    fn nan_follows_the_missing_direction() {
        let nan = [0.0, f32::NAN];
        for (missing_goes_true, expected) in [(true, -1.0), (false, 1.0)] {
            let g = graph(
                Regressor::TreeEnsemble {
                    base: 0.0,
                    trees: vec![stump(BranchRule::LessOrEqual, missing_goes_true)],
                },
                None,
            );
            assert_eq!(evaluate(&g, &nan), expected);
        }
    }

    #[test]
    fn malformed_trees_give_nan_instead_of_hanging() {
        let cycle = Tree {
            nodes: vec![TreeNode::Branch {
                feature: 0,
                threshold: 0.0,
                rule: BranchRule::LessThan,
                if_true: 0,
                if_false: 0,
                missing_goes_true: false,
            }],
        };
        let g = graph(
            Regressor::TreeEnsemble {
                base: 0.0,
                trees: vec![cycle],
            },
            None,
        );
        assert!(evaluate(&g, &[1.0, 1.0]).is_nan());
    }
}
