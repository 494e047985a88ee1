//! What can go wrong running a model. Split by what the caller does next: a missing runtime is
//! an installation problem (fix the host), a load failure means the artifact is bad (reject the
//! model), a shape error is a bug in the caller, an inference failure is worth logging with the
//! runtime's message.

/// Errors from loading or running a model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InferenceError {
    #[error(
        "ONNX Runtime library not found: {detail}. Set ORT_DYLIB_PATH to libonnxruntime.so, \
         or run infra/scripts/bootstrap.sh to install it under .tools/lib"
    )]
    RuntimeMissing { detail: String },
    #[error("could not start ONNX Runtime from {path}: {message}")]
    RuntimeInit { path: String, message: String },
    #[error("model failed to load: {0}")]
    LoadFailed(String),
    #[error("model does not have the expected interface: {0}")]
    UnexpectedInterface(String),
    #[error("expected {expected} input values ({rows} rows of {features} features), got {got}")]
    WrongShape {
        expected: usize,
        rows: usize,
        features: usize,
        got: usize,
    },
    #[error("inference failed: {0}")]
    InferenceFailed(String),
}
