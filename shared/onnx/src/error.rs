//! Why a [`crate::ModelGraph`] cannot be exported. Every variant is a bug in the caller's model
//! (the training side), never an I/O problem: there is no I/O here.

/// A graph that would produce an invalid or misleading ONNX file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExportError {
    #[error("the model has no features")]
    NoFeatures,
    #[error("feature {index} has an empty name")]
    EmptyFeatureName { index: usize },
    #[error("feature name {name:?} appears more than once")]
    DuplicateFeatureName { name: String },
    #[error("linear model has {got} weights for {expected} features")]
    WeightCount { expected: usize, got: usize },
    #[error("{what} is {value}, which is not a finite f32")]
    NonFinite { what: String, value: f64 },
    #[error("tree ensemble has no trees")]
    NoTrees,
    #[error("tree {tree} has no nodes")]
    EmptyTree { tree: usize },
    #[error("tree {tree} node {node} splits on feature {feature}, but there are {feature_count}")]
    FeatureOutOfRange {
        tree: usize,
        node: usize,
        feature: usize,
        feature_count: usize,
    },
    #[error("tree {tree} node {node} points to child {child}, but the tree has {node_count} nodes")]
    ChildOutOfRange {
        tree: usize,
        node: usize,
        child: usize,
        node_count: usize,
    },
    #[error("tree {tree} node {node} is reached twice (shared child or cycle): not a tree")]
    NotATree { tree: usize, node: usize },
    #[error("tree {tree} node {node} is not reachable from the root")]
    UnreachableNode { tree: usize, node: usize },
    #[error("plus_feature is column {index}, but there are {feature_count} features")]
    PlusFeatureOutOfRange { index: usize, feature_count: usize },
    #[error("metadata has an empty key")]
    EmptyMetadataKey,
    #[error("metadata key {key:?} appears more than once")]
    DuplicateMetadataKey { key: String },
    #[error("{what} ({value}) does not fit in an ONNX int64")]
    TooLarge { what: &'static str, value: usize },
}
