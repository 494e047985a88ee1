//! Checks a [`ModelGraph`] before writing it. ONNX Runtime would reject some of these graphs at
//! load time with an opaque message, and accept others (a NaN weight, a threshold that overflows
//! f32) that would then predict garbage at the edge; refusing them here names the culprit.

use std::collections::HashSet;

use crate::error::ExportError;
use crate::graph::{ModelGraph, Regressor, Tree, TreeNode};

/// Refuses any graph that would not export to a valid, faithful ONNX model.
pub fn validate(graph: &ModelGraph) -> Result<(), ExportError> {
    let feature_count = graph.feature_names.len();
    validate_features(&graph.feature_names)?;
    match &graph.regressor {
        Regressor::Linear { weights, bias } => {
            if weights.len() != feature_count {
                return Err(ExportError::WeightCount {
                    expected: feature_count,
                    got: weights.len(),
                });
            }
            for (i, w) in weights.iter().enumerate() {
                finite(*w, || format!("linear weight {i}"))?;
            }
            finite(*bias, || "linear bias".to_owned())?;
        }
        Regressor::TreeEnsemble { base, trees } => {
            finite(*base, || "tree ensemble base".to_owned())?;
            if trees.is_empty() {
                return Err(ExportError::NoTrees);
            }
            for (t, tree) in trees.iter().enumerate() {
                validate_tree(t, tree, feature_count)?;
            }
        }
    }
    if let Some(index) = graph.plus_feature
        && index >= feature_count
    {
        return Err(ExportError::PlusFeatureOutOfRange {
            index,
            feature_count,
        });
    }
    validate_metadata(&graph.metadata)
}

fn validate_features(names: &[String]) -> Result<(), ExportError> {
    if names.is_empty() {
        return Err(ExportError::NoFeatures);
    }
    let mut seen = HashSet::new();
    for (index, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(ExportError::EmptyFeatureName { index });
        }
        if !seen.insert(name.as_str()) {
            return Err(ExportError::DuplicateFeatureName { name: name.clone() });
        }
    }
    Ok(())
}

fn validate_metadata(metadata: &[(String, String)]) -> Result<(), ExportError> {
    let mut seen = HashSet::new();
    for (key, _) in metadata {
        if key.is_empty() {
            return Err(ExportError::EmptyMetadataKey);
        }
        if !seen.insert(key.as_str()) {
            return Err(ExportError::DuplicateMetadataKey { key: key.clone() });
        }
    }
    Ok(())
}

/// Node fields in range and finite, and the nodes form one tree rooted at 0: a walk from the
/// root never meets a node twice (no shared child, no cycle) and meets every node.
fn validate_tree(t: usize, tree: &Tree, feature_count: usize) -> Result<(), ExportError> {
    let node_count = tree.nodes.len();
    if node_count == 0 {
        return Err(ExportError::EmptyTree { tree: t });
    }
    for (n, node) in tree.nodes.iter().enumerate() {
        match node {
            TreeNode::Leaf { value } => finite(*value, || format!("tree {t} leaf {n} value"))?,
            TreeNode::Branch {
                feature,
                threshold,
                if_true,
                if_false,
                ..
            } => {
                if *feature >= feature_count {
                    return Err(ExportError::FeatureOutOfRange {
                        tree: t,
                        node: n,
                        feature: *feature,
                        feature_count,
                    });
                }
                finite(*threshold, || format!("tree {t} node {n} threshold"))?;
                for child in [*if_true, *if_false] {
                    if child >= node_count {
                        return Err(ExportError::ChildOutOfRange {
                            tree: t,
                            node: n,
                            child,
                            node_count,
                        });
                    }
                }
            }
        }
    }
    let mut visited = vec![false; node_count];
    let mut stack = vec![0_usize];
    while let Some(n) = stack.pop() {
        let Some(seen) = visited.get_mut(n) else {
            continue;
        };
        if *seen {
            return Err(ExportError::NotATree { tree: t, node: n });
        }
        *seen = true;
        if let Some(TreeNode::Branch {
            if_true, if_false, ..
        }) = tree.nodes.get(n)
        {
            stack.push(*if_false);
            stack.push(*if_true);
        }
    }
    match visited.iter().position(|v| !v) {
        Some(node) => Err(ExportError::UnreachableNode { tree: t, node }),
        None => Ok(()),
    }
}

/// The graph stores f32, so a value must survive the narrowing (1e39 is finite in f64 only).
fn finite(value: f64, what: impl FnOnce() -> String) -> Result<(), ExportError> {
    if (value as f32).is_finite() {
        Ok(())
    } else {
        Err(ExportError::NonFinite {
            what: what(),
            value,
        })
    }
}
