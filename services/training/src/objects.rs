//! The model object store: training writes each run's ONNX export there, and reads the
//! production model back to score it on a new run's holdout.

use async_nats::jetstream::{Context, object_store};
use edgeops_contracts::manifest::ArtifactRef;
use edgeops_contracts::streams;
use edgeops_contracts::training::StoredArtifact;
use tokio::io::AsyncReadExt;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
#[error("{action} {object}: {source}")]
pub struct ObjectError {
    pub action: &'static str,
    pub object: String,
    #[source]
    pub source: async_nats::Error,
}

fn failed(action: &'static str, object: &str) -> impl FnOnce(async_nats::Error) -> ObjectError {
    let object = object.to_owned();
    move |source| ObjectError {
        action,
        object,
        source,
    }
}

/// Stores a run's model as `<model>/<run>.onnx` in the models bucket.
pub async fn store_model(
    js: &Context,
    model: &str,
    run: Uuid,
    onnx: &[u8],
) -> Result<StoredArtifact, ObjectError> {
    let name = format!("{model}/{run}.onnx");
    let bucket = js
        .get_object_store(streams::MODELS_BUCKET)
        .await
        .map_err(|e| failed("opening the bucket for", &name)(e.into()))?;
    let mut reader = onnx;
    let metadata = object_store::ObjectMetadata {
        name: name.clone(),
        description: Some(format!("model {model}, training run {run}")),
        ..Default::default()
    };
    bucket
        .put(metadata, &mut reader)
        .await
        .map_err(|e| failed("putting", &name)(e.into()))?;
    Ok(StoredArtifact {
        bucket: streams::MODELS_BUCKET.into(),
        artifact: ArtifactRef::of(name, onnx),
    })
}

/// Reads a model object in full.
pub async fn read_object(js: &Context, stored: &StoredArtifact) -> Result<Vec<u8>, ObjectError> {
    let object = stored.artifact.object_name.as_str();
    let bucket = js
        .get_object_store(&stored.bucket)
        .await
        .map_err(|e| failed("opening the bucket for", object)(e.into()))?;
    let mut reader = bucket
        .get(object)
        .await
        .map_err(|e| failed("getting", object)(e.into()))?;
    let mut bytes = Vec::with_capacity(stored.artifact.size_bytes as usize);
    reader
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| failed("reading", object)(e.into()))?;
    Ok(bytes)
}
