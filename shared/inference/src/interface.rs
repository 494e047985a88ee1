//! The contract every edgeops model honours: one input `features` float32 `[N, F]` with a
//! dynamic batch, one output `forecast` float32 `[N, 1]`. Checked at load so that a model built
//! by anything else fails there, with a message, instead of at the first prediction.

use ort::value::{Outlet, TensorElementType, ValueType};

use crate::error::InferenceError;

/// Name of the model's input (same as `edgeops_onnx::INPUT_NAME`).
pub const INPUT_NAME: &str = "features";
/// Name of the model's output (same as `edgeops_onnx::OUTPUT_NAME`).
pub const OUTPUT_NAME: &str = "forecast";

/// Checks the session's declared inputs and outputs; returns the feature count `F`.
pub(crate) fn check(inputs: &[Outlet], outputs: &[Outlet]) -> Result<usize, InferenceError> {
    let [input] = inputs else {
        return Err(wrong(format!("{} inputs, expected 1", inputs.len())));
    };
    let [output] = outputs else {
        return Err(wrong(format!("{} outputs, expected 1", outputs.len())));
    };
    let [batch, features] = float_matrix(input, INPUT_NAME)?;
    if batch >= 0 {
        return Err(wrong(format!(
            "input batch dimension is fixed at {batch}; it must be dynamic"
        )));
    }
    let feature_count = usize::try_from(features)
        .ok()
        .filter(|f| *f > 0)
        .ok_or_else(|| wrong(format!("input has {features} features")))?;
    let [_, width] = float_matrix(output, OUTPUT_NAME)?;
    if width != 1 {
        return Err(wrong(format!("output has width {width}, expected 1")));
    }
    Ok(feature_count)
}

/// The two dimensions (-1 when dynamic) of a float32 rank-2 tensor named `name`.
fn float_matrix(outlet: &Outlet, name: &str) -> Result<[i64; 2], InferenceError> {
    if outlet.name() != name {
        return Err(wrong(format!(
            "found {:?}, expected {name:?}",
            outlet.name()
        )));
    }
    match outlet.dtype() {
        ValueType::Tensor {
            ty: TensorElementType::Float32,
            shape,
            ..
        } => match **shape {
            [rows, columns] => Ok([rows, columns]),
            _ => Err(wrong(format!("{name} has shape {shape}, expected rank 2"))),
        },
        other => Err(wrong(format!(
            "{name} is {other:?}, expected a float32 tensor"
        ))),
    }
}

fn wrong(message: String) -> InferenceError {
    InferenceError::UnexpectedInterface(message)
}
