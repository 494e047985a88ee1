//! Loading and calling a model: metadata, refusals, and bad input that must not crash.
// Helpers outside #[test] fns may unwrap too: a failure there is a failed assertion.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::graph;
use edgeops_inference::{InferenceError, Model, init_runtime};
use edgeops_onnx::proto::ModelProto;
use edgeops_onnx::{Regressor, encode};
use prost::Message;

fn linear_graph() -> edgeops_onnx::ModelGraph {
    let mut g = graph(
        3,
        Regressor::Linear {
            weights: vec![1.0, 2.0, 3.0],
            bias: 0.5,
        },
        None,
    );
    g.metadata = vec![
        ("edgeops.model_id".into(), "01J0-model".into()),
        ("edgeops.features".into(), "a,b,c".into()),
        ("empty".into(), String::new()),
    ];
    g
}

#[test]
fn runtime_initialises_more_than_once() {
    init_runtime().unwrap();
    init_runtime().unwrap();
}

#[test]
fn metadata_and_feature_count_round_trip() {
    let model = common::load(&linear_graph());
    assert_eq!(model.feature_count(), 3);
    let metadata: Vec<_> = model
        .metadata()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        metadata,
        [
            ("edgeops.features", "a,b,c"),
            ("edgeops.model_id", "01J0-model"),
            ("empty", "")
        ]
    );
}

#[test]
fn wrong_row_lengths_are_errors() {
    let model = common::load(&linear_graph());
    assert!(matches!(
        model.predict_one(&[1.0, 2.0]),
        Err(InferenceError::WrongShape {
            expected: 3,
            got: 2,
            ..
        })
    ));
    assert!(model.predict_one(&[1.0; 4]).is_err());
    assert!(matches!(
        model.predict(&[1.0; 7], 2),
        Err(InferenceError::WrongShape { expected: 6, .. })
    ));
    assert!(model.predict(&[], usize::MAX).is_err());
    assert_eq!(model.predict(&[], 0).unwrap(), Vec::<f32>::new());
    // Still usable afterwards.
    assert_eq!(model.predict_one(&[1.0, 1.0, 1.0]).unwrap(), 6.5);
}

#[test]
fn corrupted_models_fail_to_load_with_an_error() {
    let bytes = encode(&linear_graph()).unwrap();
    let mut bad_tag = bytes.clone();
    bad_tag[0] = 0xFF; // field 31, wire type 7: not protobuf
    assert!(matches!(
        Model::load(&bad_tag),
        Err(InferenceError::LoadFailed(_))
    ));
    assert!(Model::load(&bytes[..bytes.len() / 2]).is_err());
    assert!(Model::load(b"definitely not onnx").is_err());
    assert!(Model::load(&[]).is_err());
    // Any single corrupted byte: an error or a model, never a crash.
    for i in 0..bytes.len() {
        let mut corrupted = bytes.clone();
        corrupted[i] ^= 0xA5;
        if let Ok(model) = Model::load(&corrupted) {
            let _ = model.predict_one(&vec![1.0; model.feature_count()]);
        }
    }
}

#[test]
fn a_model_with_another_interface_is_refused() {
    let mut proto = ModelProto::decode(encode(&linear_graph()).unwrap().as_slice()).unwrap();
    let graph = proto.graph.as_mut().unwrap();
    graph.output[0].name = "prediction".into();
    graph.node.last_mut().unwrap().output[0] = "prediction".into();
    let err = Model::load(&proto.encode_to_vec()).unwrap_err();
    assert!(
        matches!(&err, InferenceError::UnexpectedInterface(m) if m.contains("\"forecast\"")),
        "{err}"
    );
}

#[test]
fn warm_up_runs_and_reports_its_time() {
    let model = common::load(&linear_graph());
    assert!(model.warm_up().unwrap() > std::time::Duration::ZERO);
}

#[test]
fn one_model_serves_several_threads() {
    fn shareable<T: Send + Sync>(_: &T) {}
    let g = linear_graph();
    let model = std::sync::Arc::new(common::load(&g));
    shareable(&model);
    let workers: Vec<_> = (0..4_u8)
        .map(|t| {
            let model = std::sync::Arc::clone(&model);
            let g = g.clone();
            std::thread::spawn(move || {
                for i in 0..200_u16 {
                    let row = [f32::from(t), f32::from(i), -1.0];
                    let expected = edgeops_onnx::evaluate(&g, &row);
                    common::assert_close(model.predict_one(&row).unwrap(), expected, "threaded");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
}
