//! Real signed ONNX models for the unit tests: linear over a spec's features, written by
//! `edgeops-onnx`, signed with a fixed test key.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use edgeops_artifacts::{
    ArtifactRef, FeatureSpecRef, Lineage, Manifest, SigningKeyPair, TrustedKeys, sign,
};
use edgeops_contracts::deployment::DesiredModel;
use edgeops_features::FeatureSpec;
use edgeops_onnx::{ModelGraph, Regressor};
use uuid::Uuid;

pub fn key() -> SigningKeyPair {
    SigningKeyPair::from_secret_bytes(&[7; 32])
}

pub fn trusted() -> TrustedKeys {
    TrustedKeys::from_keys([key().public_key().clone()])
}

/// `forecast = target's current value + bias + 0.01 * sum(features)`; the spec JSON in the
/// metadata unless `spec_metadata` is `None`.
pub fn model_bytes(spec: &FeatureSpec, bias: f64, spec_metadata: Option<String>) -> Vec<u8> {
    let names = spec.names();
    let target = names.iter().position(|n| *n == spec.target);
    let mut metadata = vec![("edgeops.model".to_owned(), "co2".to_owned())];
    if let Some(json) = spec_metadata {
        metadata.push(("edgeops.feature_spec".to_owned(), json));
    }
    let graph = ModelGraph {
        feature_names: names.clone(),
        regressor: Regressor::Linear {
            weights: vec![0.01; names.len()],
            bias,
        },
        plus_feature: target,
        metadata,
        doc: "test model".into(),
        model_version: 1,
    };
    edgeops_onnx::encode(&graph).unwrap()
}

pub fn spec_json(spec: &FeatureSpec) -> Option<String> {
    Some(serde_json::to_string(spec).unwrap())
}

pub fn desired(
    spec: &FeatureSpec,
    version: u32,
    bytes: &[u8],
    key: &SigningKeyPair,
) -> DesiredModel {
    let manifest = Manifest {
        model: "co2".into(),
        version,
        artifact: ArtifactRef::of(format!("co2/{version}.onnx"), bytes),
        feature_spec: FeatureSpecRef {
            name: spec.name.clone(),
            version: spec.version,
            inputs: spec.names(),
        },
        horizon_bins: 12,
        metrics: BTreeMap::new(),
        lineage: Lineage {
            training_run: Uuid::from_u128(u128::from(version)),
            dataset_fingerprint: "0".repeat(64),
            code_version: "test".into(),
        },
        created_at: DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap(),
        reference: Vec::new(),
    };
    DesiredModel {
        rollout: None,
        model: "co2".into(),
        version,
        signed: sign(manifest, key).unwrap(),
        bucket: "edgeops_models".into(),
    }
}
