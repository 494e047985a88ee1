//! [`ModelGraph`] to ONNX bytes.
//!
//! The graph is `features -> regressor -> (+ features[:, k]) -> forecast`. Versions are the
//! lowest that carry everything we use, so older runtimes on gateways still load the files:
//! IR 8 with default-domain opset 17 (ONNX 1.12), and `ai.onnx.ml` opset 3 (the
//! `TreeEnsembleRegressor` still supported, not deprecated, by ONNX Runtime 1.31).

use prost::Message;

use crate::build::{Dim, attr_int, float_tensor, float_value_info, int64_tensor, node, to_i64};
use crate::error::ExportError;
use crate::graph::{ModelGraph, Regressor};
use crate::proto::{GraphProto, ModelProto, OperatorSetIdProto, StringStringEntryProto};
use crate::tree::{ML_DOMAIN, ensemble_node};
use crate::validate::validate;
use crate::{INPUT_NAME, OUTPUT_NAME};

/// `ModelProto.ir_version` written.
pub const IR_VERSION: i64 = 8;
/// Default ("" = `ai.onnx`) opset imported.
pub const ONNX_OPSET: i64 = 17;
/// `ai.onnx.ml` opset imported when the model has a tree ensemble.
pub const ML_OPSET: i64 = 3;
/// `ModelProto.producer_name` written.
pub const PRODUCER_NAME: &str = "edgeops";
/// Symbolic name of the batch dimension.
const BATCH: &str = "batch";
/// The regressor's own output when `plus_feature` adds a column after it.
const REGRESSOR_OUT: &str = "regressor_out";

/// Validates `graph` and serialises it as an ONNX model. Deterministic: the same graph always
/// gives the same bytes (no maps, no timestamps), so a hash of the file identifies the model.
pub fn encode(graph: &ModelGraph) -> Result<Vec<u8>, ExportError> {
    validate(graph)?;
    Ok(model_proto(graph)?.encode_to_vec())
}

fn model_proto(graph: &ModelGraph) -> Result<ModelProto, ExportError> {
    let feature_count = to_i64(graph.feature_names.len(), "feature count")?;
    let regressor_out = match graph.plus_feature {
        Some(_) => REGRESSOR_OUT,
        None => OUTPUT_NAME,
    };
    let mut nodes = Vec::new();
    let mut initializer = Vec::new();
    let mut opset_import = vec![opset("", ONNX_OPSET)];
    match &graph.regressor {
        Regressor::Linear { weights, bias } => {
            initializer.push(float_tensor(
                "linear_weights",
                vec![feature_count, 1],
                weights,
            ));
            initializer.push(float_tensor("linear_bias", vec![1], &[*bias]));
            nodes.push(node(
                "MatMul",
                "",
                "linear_dot",
                [INPUT_NAME, "linear_weights"],
                ["linear_dot"],
                vec![],
            ));
            nodes.push(node(
                "Add",
                "",
                "linear_add_bias",
                ["linear_dot", "linear_bias"],
                [regressor_out],
                vec![],
            ));
        }
        Regressor::TreeEnsemble { base, trees } => {
            opset_import.push(opset(ML_DOMAIN, ML_OPSET));
            nodes.push(ensemble_node(*base, trees, INPUT_NAME, regressor_out)?);
        }
    }
    if let Some(column) = graph.plus_feature {
        // Gather with a 1-element index vector keeps the axis: [N, F] -> [N, 1].
        let index = to_i64(column, "plus_feature")?;
        initializer.push(int64_tensor("target_column", vec![1], vec![index]));
        nodes.push(node(
            "Gather",
            "",
            "take_target_now",
            [INPUT_NAME, "target_column"],
            ["target_now"],
            vec![attr_int("axis", 1)],
        ));
        nodes.push(node(
            "Add",
            "",
            "add_target_now",
            [regressor_out, "target_now"],
            [OUTPUT_NAME],
            vec![],
        ));
    }
    let input_doc = format!(
        "float32 [batch, {feature_count}]; columns in order: {}",
        graph.feature_names.join(", ")
    );
    let batch: Dim<'_> = Err(BATCH);
    Ok(ModelProto {
        ir_version: IR_VERSION,
        opset_import,
        producer_name: PRODUCER_NAME.to_owned(),
        producer_version: env!("CARGO_PKG_VERSION").to_owned(),
        domain: String::new(),
        model_version: graph.model_version,
        doc_string: graph.doc.clone(),
        graph: Some(GraphProto {
            node: nodes,
            name: "edgeops_regressor".to_owned(),
            initializer,
            doc_string: String::new(),
            input: vec![float_value_info(
                INPUT_NAME,
                &[batch, Ok(feature_count)],
                input_doc,
            )],
            output: vec![float_value_info(
                OUTPUT_NAME,
                &[batch, Ok(1)],
                "float32 [batch, 1]: the forecast of the target".to_owned(),
            )],
            value_info: vec![],
        }),
        metadata_props: graph
            .metadata
            .iter()
            .map(|(key, value)| StringStringEntryProto {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
    })
}

fn opset(domain: &str, version: i64) -> OperatorSetIdProto {
    OperatorSetIdProto {
        domain: domain.to_owned(),
        version,
    }
}
