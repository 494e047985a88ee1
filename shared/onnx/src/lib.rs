//! Writes trained models as standard ONNX graphs (linear and tree-ensemble regressors).
//!
//! Training describes a model as a [`ModelGraph`]; [`encode`] validates it and writes the ONNX
//! bytes that the registry stores and the edge gateway runs with ONNX Runtime. [`evaluate`] is
//! the same model computed in plain Rust with ONNX Runtime's f32 semantics, so training can check
//! an export and tests can hold the runtime to it.
//!
//! There is no maintained ONNX crate, so the needed part of `onnx.proto` is written by hand in
//! [`proto`] (prost messages with the official field numbers).

mod build;
mod encode;
mod error;
mod evaluate;
mod graph;
pub mod proto;
mod tree;
mod validate;

pub use encode::{IR_VERSION, ML_OPSET, ONNX_OPSET, PRODUCER_NAME, encode};
pub use error::ExportError;
pub use evaluate::evaluate;
pub use graph::{BranchRule, ModelGraph, Regressor, Tree, TreeNode};
pub use tree::ML_DOMAIN;

/// The graph's only input: float32 `[N, F]`, one row per prediction.
pub const INPUT_NAME: &str = "features";
/// The graph's only output: float32 `[N, 1]`.
pub const OUTPUT_NAME: &str = "forecast";
