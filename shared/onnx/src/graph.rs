//! What a trained regressor looks like before it becomes ONNX: plain data, no I/O.
//!
//! Numbers are `f64` because that is what training works in; the written graph (and
//! [`crate::evaluate`]) uses them rounded to `f32`, which is what ONNX Runtime computes with.

/// A model to export: the regressor over a fixed, ordered list of features.
///
/// The ONNX graph takes input [`crate::INPUT_NAME`]: float32 `[N, F]` (`N` symbolic, "batch";
/// `F = feature_names.len()`) and returns [`crate::OUTPUT_NAME`]: float32 `[N, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelGraph {
    /// Column order of the input. Written into the input's doc string so the file says which
    /// vector it expects; the names themselves do not change the computation.
    pub feature_names: Vec<String>,
    pub regressor: Regressor,
    /// Models are trained on the change of the target; the graph adds this input column
    /// (the target's current value) to the regressor's output. None = output is the regressor's.
    pub plus_feature: Option<usize>,
    /// Written to `ModelProto.metadata_props`, in this order. Keys must be unique.
    pub metadata: Vec<(String, String)>,
    /// Written to `ModelProto.doc_string`.
    pub doc: String,
    /// Written to `ModelProto.model_version`.
    pub model_version: i64,
}

/// The function from a feature row to one number.
#[derive(Debug, Clone, PartialEq)]
pub enum Regressor {
    /// `y = x·w + b`, written as `MatMul` + `Add`.
    Linear { weights: Vec<f64>, bias: f64 },
    /// `y = base + Σ tree(x)`, written as one `ai.onnx.ml.TreeEnsembleRegressor` (SUM).
    TreeEnsemble { base: f64, trees: Vec<Tree> },
}

/// One regression tree. Node 0 is the root; child references are indices into `nodes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    pub nodes: Vec<TreeNode>,
}

/// A decision or a leaf.
#[derive(Debug, Clone, PartialEq)]
pub enum TreeNode {
    /// Goes to `if_true` when `x[feature] <rule> threshold`; a NaN input goes to `if_true`
    /// when `missing_goes_true`, else to `if_false`.
    Branch {
        feature: usize,
        threshold: f64,
        rule: BranchRule,
        if_true: usize,
        if_false: usize,
        missing_goes_true: bool,
    },
    Leaf {
        value: f64,
    },
}

/// The comparison a branch makes (ONNX `BRANCH_LT` / `BRANCH_LEQ`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchRule {
    /// `x < threshold`
    LessThan,
    /// `x <= threshold`
    LessOrEqual,
}

impl BranchRule {
    /// The ONNX `nodes_modes` string.
    pub fn onnx_mode(self) -> &'static str {
        match self {
            BranchRule::LessThan => "BRANCH_LT",
            BranchRule::LessOrEqual => "BRANCH_LEQ",
        }
    }

    /// Whether `x` satisfies the rule against `threshold` (both already in f32). NaN is false.
    pub fn holds(self, x: f32, threshold: f32) -> bool {
        match self {
            BranchRule::LessThan => x < threshold,
            BranchRule::LessOrEqual => x <= threshold,
        }
    }
}
