//! What `encode` writes: the graph's interface, opsets and metadata, read back with prost.
// Helpers outside #[test] fns may unwrap too: a failure there is a failed assertion.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use edgeops_onnx::proto::{
    AttributeProto, DimensionValue, GraphProto, ModelProto, TypeValue, ValueInfoProto,
};
use edgeops_onnx::{INPUT_NAME, ML_DOMAIN, OUTPUT_NAME, encode};
use prost::Message;

fn decode(bytes: &[u8]) -> ModelProto {
    ModelProto::decode(bytes).unwrap()
}

fn graph_of(model: &ModelProto) -> &GraphProto {
    model.graph.as_ref().unwrap()
}

/// (dims as strings, elem_type) of a declared value.
fn shape(info: &ValueInfoProto) -> (Vec<String>, i32) {
    let Some(TypeValue::TensorType(t)) = info.r#type.as_ref().unwrap().value.as_ref() else {
        panic!("not a tensor type");
    };
    let dims = t
        .shape
        .as_ref()
        .unwrap()
        .dim
        .iter()
        .map(|d| match d.value.as_ref().unwrap() {
            DimensionValue::DimValue(v) => v.to_string(),
            DimensionValue::DimParam(p) => p.clone(),
        })
        .collect();
    (dims, t.elem_type)
}

fn attribute<'a>(graph: &'a GraphProto, name: &str) -> &'a AttributeProto {
    graph.node[0]
        .attribute
        .iter()
        .find(|a| a.name == name)
        .unwrap()
}

#[test]
fn encoding_is_deterministic() {
    for graph in [common::linear(), common::ensemble()] {
        assert_eq!(encode(&graph).unwrap(), encode(&graph).unwrap());
    }
}

#[test]
fn interface_is_features_in_forecast_out() {
    let model = decode(&encode(&common::linear()).unwrap());
    let graph = graph_of(&model);
    assert_eq!(graph.input.len(), 1);
    assert_eq!(graph.input[0].name, INPUT_NAME);
    assert_eq!(
        shape(&graph.input[0]),
        (vec!["batch".into(), "3".into()], 1)
    );
    assert!(graph.input[0].doc_string.ends_with("f0, f1, f2"));
    assert_eq!(graph.output.len(), 1);
    assert_eq!(graph.output[0].name, OUTPUT_NAME);
    assert_eq!(
        shape(&graph.output[0]),
        (vec!["batch".into(), "1".into()], 1)
    );
}

#[test]
fn model_fields_and_metadata_are_written_in_order() {
    let model = decode(&encode(&common::linear()).unwrap());
    assert_eq!(model.ir_version, 8);
    assert_eq!(model.producer_name, "edgeops");
    assert_eq!(model.model_version, 7);
    assert_eq!(model.doc_string, "linear test model");
    let pairs: Vec<_> = model
        .metadata_props
        .iter()
        .map(|p| (p.key.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("edgeops.model_id", "m-1"),
            ("edgeops.target", "temperature")
        ]
    );
}

#[test]
fn linear_imports_only_the_default_opset_and_adds_the_target_column() {
    let model = decode(&encode(&common::linear()).unwrap());
    let opsets: Vec<_> = model
        .opset_import
        .iter()
        .map(|o| (o.domain.as_str(), o.version))
        .collect();
    assert_eq!(opsets, [("", 17)]);
    let ops: Vec<_> = graph_of(&model)
        .node
        .iter()
        .map(|n| n.op_type.as_str())
        .collect();
    assert_eq!(ops, ["MatMul", "Add", "Gather", "Add"]);
    let last = graph_of(&model).node.last().unwrap();
    assert_eq!(last.output, [OUTPUT_NAME]);
}

#[test]
fn ensemble_is_one_ml_node_with_parallel_arrays() {
    let model = decode(&encode(&common::ensemble()).unwrap());
    let opsets: Vec<_> = model
        .opset_import
        .iter()
        .map(|o| (o.domain.as_str(), o.version))
        .collect();
    assert_eq!(opsets, [("", 17), (ML_DOMAIN, 3)]);
    let graph = graph_of(&model);
    assert_eq!(graph.node.len(), 1);
    assert_eq!(graph.node[0].op_type, "TreeEnsembleRegressor");
    assert_eq!(graph.node[0].domain, ML_DOMAIN);
    assert_eq!(graph.node[0].output, [OUTPUT_NAME]);
    assert_eq!(attribute(graph, "nodes_treeids").ints, [0, 0, 0, 1, 1, 1]);
    assert_eq!(attribute(graph, "nodes_nodeids").ints, [0, 1, 2, 0, 1, 2]);
    assert_eq!(
        attribute(graph, "nodes_truenodeids").ints,
        [1, 0, 0, 1, 0, 0]
    );
    let modes: Vec<_> = attribute(graph, "nodes_modes")
        .strings
        .iter()
        .map(|s| String::from_utf8(s.clone()).unwrap())
        .collect();
    assert_eq!(
        modes,
        ["BRANCH_LEQ", "LEAF", "LEAF", "BRANCH_LEQ", "LEAF", "LEAF"]
    );
    assert_eq!(attribute(graph, "target_nodeids").ints, [1, 2, 1, 2]);
    assert_eq!(
        attribute(graph, "target_weights").floats,
        [-1.0, 1.0, 2.0, 4.0]
    );
    assert_eq!(attribute(graph, "base_values").floats, [0.25]);
}
