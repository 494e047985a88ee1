//! The demo's fault injection: a version that looks as good as the first model offline but
//! forecasts badly live, as a faulty export or a training-serving mismatch would. Its ONNX is a
//! real model over the same features (persistence plus 250 ppm); its run report is the first
//! model's, so the registry's offline gates pass it. Only the rollout's live-error gate can tell.

use anyhow::Context as _;
use edgeops_contracts::manifest::ArtifactRef;
use edgeops_contracts::training::{RUN_AGGREGATE, StoredArtifact, TrainingCompleted};
use edgeops_contracts::{Actor, EventEnvelope};
use edgeops_features::FeatureSpec;
use edgeops_onnx::{ModelGraph, Regressor};
use uuid::Uuid;

/// What the broken version adds to the persistence forecast, in ppm.
pub const BIAS_PPM: f64 = 250.0;

/// Stores the broken model and publishes a completed run for it, as training would; the
/// registry registers and signs it as the model's next version.
pub async fn inject(
    js: &async_nats::jetstream::Context,
    first: &TrainingCompleted,
) -> anyhow::Result<TrainingCompleted> {
    let onnx = edgeops_training::read_object(js, &first.artifact).await?;
    let run = Uuid::now_v7();
    let bytes = broken_bytes(&onnx, run)?;
    let object = format!("{}/{run}.onnx", first.request.model);
    let bucket = js.get_object_store(&first.artifact.bucket).await?;
    let mut reader = bytes.as_slice();
    bucket
        .put(object.as_str(), &mut reader)
        .await
        .context("storing the broken model")?;
    let done = TrainingCompleted {
        run,
        artifact: StoredArtifact {
            bucket: first.artifact.bucket.clone(),
            artifact: ArtifactRef::of(object, &bytes),
        },
        ..first.clone()
    };
    let event = EventEnvelope::new(
        RUN_AGGREGATE,
        &run.to_string(),
        Actor::User("demo (fault injection)".into()),
        done.clone(),
    );
    edgeops_bus::publish_event(js, &event, None).await?;
    Ok(done)
}

/// The first model's interface and metadata around a linear graph: target + [`BIAS_PPM`].
fn broken_bytes(first_onnx: &[u8], run: Uuid) -> anyhow::Result<Vec<u8>> {
    let first = edgeops_inference::Model::load(first_onnx)?;
    let mut metadata = first.metadata().clone();
    let spec: FeatureSpec = serde_json::from_str(
        metadata
            .get("edgeops.feature_spec")
            .context("the first model names no feature spec")?,
    )?;
    let names = spec.names();
    metadata.insert("edgeops.training_run".into(), run.to_string());
    let graph = ModelGraph {
        regressor: Regressor::Linear {
            weights: vec![0.0; names.len()],
            bias: BIAS_PPM,
        },
        plus_feature: names.iter().position(|name| *name == spec.target),
        feature_names: names,
        metadata: metadata.into_iter().collect(),
        doc: format!("demo fault injection: persistence + {BIAS_PPM} ppm"),
        model_version: 1,
    };
    Ok(edgeops_onnx::encode(&graph)?)
}
