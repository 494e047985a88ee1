//! Runs ONNX models in-process with ONNX Runtime (ort, loaded dynamically).
//!
//! The edge gateway and training's export check load the bytes `edgeops-onnx` writes with
//! [`Model::load`] and call [`Model::predict_one`] per feature row. ONNX Runtime is not linked:
//! [`init_runtime`] opens the shared library that `infra/scripts/bootstrap.sh` installs (or
//! `$ORT_DYLIB_PATH`), so builds need no network and the runtime version is the host's choice.

mod error;
mod interface;
mod model;
mod runtime;

pub use error::InferenceError;
pub use interface::{INPUT_NAME, OUTPUT_NAME};
pub use model::Model;
pub use runtime::{DYLIB_ENV_VAR, init_runtime};
