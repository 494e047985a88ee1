//! Real models, signed manifests, desired state and readings for the edge inference tests.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use edgeops_artifacts::{
    ArtifactRef, FeatureSpecRef, Lineage, Manifest, SignedManifest, SigningKeyPair, sign,
};
use edgeops_contracts::deployment::{DesiredModel, Forecast};
use edgeops_contracts::{DeviceId, EventEnvelope, SiteId, events::upcasters, streams, subjects};
use edgeops_edge_gateway::GatewayConfig;
use edgeops_features::resample::bin_of;
use edgeops_features::{FeatureSpec, compute_rows};
use edgeops_inference::Model;
use edgeops_integration_tests::{TestStack, wait_until};
use edgeops_onnx::{ModelGraph, Regressor};
use futures::StreamExt;
use serde_json::Value;
use uuid::Uuid;

pub const SITE: &str = "s1";
pub const DEVICE: &str = "room-1";

pub fn trusted_key() -> SigningKeyPair {
    SigningKeyPair::from_secret_bytes(&[11; 32])
}

pub fn stranger_key() -> SigningKeyPair {
    SigningKeyPair::from_secret_bytes(&[13; 32])
}

pub fn spec() -> FeatureSpec {
    FeatureSpec::indoor_air()
}

/// A gateway for `stack`'s site trusting [`trusted_key`], caching models in `cache`.
pub fn gateway_config(stack: &TestStack, cache: &Path) -> GatewayConfig {
    let leaf = stack.leaf(SITE);
    let mut config = GatewayConfig::local(leaf.site.clone(), leaf.url.clone());
    config.trusted_key = vec![trusted_key().public_key().to_base64()];
    config.model_cache_dir = Some(cache.to_owned());
    config
}

/// A linear model over the indoor-air features whose output differs per version: the target's
/// current value, plus `10 * version`, plus small weights on every feature.
pub fn model_bytes(version: u32) -> Vec<u8> {
    model_bytes_with(&spec(), version)
}

/// As [`model_bytes`], over `spec`'s features (carried in the model's metadata).
pub fn model_bytes_with(spec: &FeatureSpec, version: u32) -> Vec<u8> {
    let names = spec.names();
    let weights = (0..names.len())
        .map(|i| f64::from(version) * 0.001 * ((i % 5) as f64 - 2.0))
        .collect();
    let graph = ModelGraph {
        feature_names: names.clone(),
        regressor: Regressor::Linear {
            weights,
            bias: 10.0 * f64::from(version),
        },
        plus_feature: names.iter().position(|n| *n == spec.target),
        metadata: vec![
            ("edgeops.model".into(), "co2-room".into()),
            ("edgeops.training_run".into(), run(version).to_string()),
            (
                "edgeops.feature_spec".into(),
                serde_json::to_string(spec).unwrap(),
            ),
            ("edgeops.feature_names".into(), names.join(",")),
            ("edgeops.horizon_bins".into(), "12".into()),
        ],
        doc: format!("test model v{version}"),
        model_version: i64::from(version),
    };
    edgeops_onnx::encode(&graph).unwrap()
}

fn run(version: u32) -> Uuid {
    Uuid::from_u128(0x0189_0000_0000_7000_8000_0000_0000_0000 + u128::from(version))
}

pub fn object_name(version: u32) -> String {
    format!("co2-room/{}.onnx", run(version))
}

/// The manifest the registry would sign for `bytes` as `version`.
pub fn manifest(version: u32, bytes: &[u8]) -> Manifest {
    manifest_with(&spec(), version, bytes)
}

pub fn manifest_with(spec: &FeatureSpec, version: u32, bytes: &[u8]) -> Manifest {
    Manifest {
        model: "co2-room".into(),
        version,
        artifact: ArtifactRef::of(object_name(version), bytes),
        feature_spec: FeatureSpecRef {
            name: spec.name.clone(),
            version: spec.version,
            inputs: spec.names(),
        },
        horizon_bins: 12,
        metrics: BTreeMap::from([("rmse".to_owned(), 40.0)]),
        lineage: Lineage {
            training_run: run(version),
            dataset_fingerprint: "ab".repeat(32),
            code_version: "test".into(),
        },
        created_at: DateTime::from_timestamp(1_767_225_600, 0).unwrap(),
        reference: Vec::new(),
    }
}

pub fn signed(version: u32, bytes: &[u8], key: &SigningKeyPair) -> SignedManifest {
    sign(manifest(version, bytes), key).unwrap()
}

/// Stores a genuine model of `version` over `spec` and returns its signed desired state.
pub async fn publish_model_with(
    stack: &TestStack,
    spec: &FeatureSpec,
    version: u32,
) -> DesiredModel {
    let bytes = model_bytes_with(spec, version);
    store_object(stack, &object_name(version), &bytes).await;
    desired(sign(manifest_with(spec, version, &bytes), &trusted_key()).unwrap())
}

pub fn desired(signed: SignedManifest) -> DesiredModel {
    DesiredModel {
        rollout: Some(Uuid::now_v7()),
        model: signed.manifest.model.clone(),
        version: signed.manifest.version,
        signed,
        bucket: streams::MODELS_BUCKET.into(),
    }
}

/// Stores `bytes` in the hub's model store under `name`.
pub async fn store_object(stack: &TestStack, name: &str, bytes: &[u8]) {
    let store = stack
        .hub_js()
        .await
        .get_object_store(streams::MODELS_BUCKET)
        .await
        .unwrap();
    let mut reader = bytes;
    store.put(name, &mut reader).await.unwrap();
}

/// Stores a genuine model of `version` and returns its desired state, signed by the trusted key.
pub async fn publish_model(stack: &TestStack, version: u32) -> DesiredModel {
    publish_model_with(stack, &spec(), version).await
}

/// Writes the device's desired state into the hub bucket, as deployment would.
pub async fn put_desired(stack: &TestStack, desired: &DesiredModel) {
    let site = SiteId::parse(SITE).unwrap();
    let device = DeviceId::parse(DEVICE).unwrap();
    put_desired_for(stack, &site, &device, desired).await;
}

/// Writes one device's desired state into the hub bucket, as deployment would.
pub async fn put_desired_for(
    stack: &TestStack,
    site: &SiteId,
    device: &DeviceId,
    desired: &DesiredModel,
) {
    let kv = stack
        .hub_js()
        .await
        .get_key_value(streams::DESIRED_BUCKET)
        .await
        .unwrap();
    let key = edgeops_contracts::deployment::desired_key(site, device);
    kv.put(key, serde_json::to_vec(desired).unwrap().into())
        .await
        .unwrap();
}

/// The reading at minute `m`: values that vary, so every model sees different rows.
pub fn reading_values(m: i64) -> BTreeMap<String, f64> {
    let x = m as f64;
    BTreeMap::from([
        (
            "co2_ppm".to_owned(),
            650.0 + 80.0 * (x / 23.0).sin() + (m % 7) as f64 * 4.0,
        ),
        (
            "temperature_c".to_owned(),
            21.0 + (x / 41.0).cos() + (m % 3) as f64 * 0.1,
        ),
        ("humidity_pct".to_owned(), 45.0 + 5.0 * (x / 31.0).sin()),
    ])
}

pub fn minute(m: i64) -> DateTime<Utc> {
    crate::support::base_time() + chrono::Duration::minutes(m)
}

/// Publishes the reading of minute `m` at the site, acknowledged by the local stream.
pub async fn publish_reading(leaf: &async_nats::Client, m: i64) {
    let js = async_nats::jetstream::with_domain(leaf.clone(), format!("edge-{SITE}"));
    let payload = serde_json::json!({
        "ts": minute(m).to_rfc3339(),
        "metrics": reading_values(m),
    });
    let subject = crate::support::raw_subject(SITE, DEVICE);
    js.publish(subject, serde_json::to_vec(&payload).unwrap().into())
        .await
        .unwrap()
        .await
        .unwrap();
}

/// The feature row of minute `last`'s bin from the readings of `minutes`, if one exists:
/// computed here from every reading, independently of the gateway's window.
pub fn expected_row(minutes: &[i64], last: i64) -> Option<Vec<f32>> {
    expected_row_with(&spec(), minutes, last)
}

pub fn expected_row_with(spec: &FeatureSpec, minutes: &[i64], last: i64) -> Option<Vec<f32>> {
    let mut samples: BTreeMap<String, Vec<(DateTime<Utc>, f64)>> = BTreeMap::new();
    for m in minutes.iter().filter(|m| **m <= last) {
        for (metric, value) in reading_values(*m) {
            samples.entry(metric).or_default().push((minute(*m), value));
        }
    }
    let bin = bin_of(minute(last), spec.interval_secs);
    let row = compute_rows(spec, &samples, Some(bin))
        .into_iter()
        .find(|r| r.ts.timestamp() == bin)?;
    Some(row.values.iter().map(|v| *v as f32).collect())
}

/// A reference copy of a model, loaded by the test, to compute the exact expected outputs.
pub fn reference(version: u32) -> Model {
    reference_with(&spec(), version)
}

pub fn reference_with(spec: &FeatureSpec, version: u32) -> Model {
    Model::load(&model_bytes_with(spec, version)).unwrap()
}

/// Forecasts of the test device, as published at the site.
pub struct Forecasts(async_nats::Subscriber);

impl Forecasts {
    pub async fn subscribe(leaf: &async_nats::Client) -> Self {
        let subject = crate::support::forecast_subject(SITE, DEVICE);
        let subscriber = leaf.subscribe(subject).await.unwrap();
        leaf.flush().await.unwrap();
        Self(subscriber)
    }

    pub async fn next(&mut self) -> Forecast {
        let message = tokio::time::timeout(Duration::from_secs(20), self.0.next())
            .await
            .expect("a forecast within 20 s")
            .unwrap();
        serde_json::from_slice(&message.payload).unwrap()
    }
}

/// The device's reported-state events, decoded, in stream order.
pub async fn device_events(stack: &TestStack) -> Vec<EventEnvelope<Value>> {
    let subject = subjects::aggregate_events("device", &format!("{SITE}:{DEVICE}"));
    stack
        .hub_messages(streams::EVENTS)
        .await
        .into_iter()
        .filter(|(s, _)| *s == subject)
        .map(|(_, payload)| EventEnvelope::decode(&payload, &upcasters()).unwrap())
        .collect()
}

/// Waits for the device's `event_type` event about `version` and returns it.
pub async fn wait_for_event(
    stack: &TestStack,
    event_type: &str,
    version: u32,
) -> EventEnvelope<Value> {
    wait_until(
        &format!("{event_type} v{version}"),
        Duration::from_secs(60),
        || async {
            let events = device_events(stack).await;
            let found = events.iter().find(|e| {
                e.meta.event_type == event_type && e.data["version"] == serde_json::json!(version)
            });
            match found {
                Some(event) => Ok(Some(event.clone())),
                None => Err(format!(
                    "{:?}",
                    events
                        .iter()
                        .map(|e| format!("{} {}", e.meta.event_type, e.data["version"]))
                        .collect::<Vec<_>>()
                )),
            }
        },
    )
    .await
}

/// Waits until the gateway reads live readings (each new one is then forecast).
pub async fn wait_until_feeding(stats: &edgeops_edge_gateway::inference::InferenceStats) {
    wait_until(
        "the gateway to forecast",
        Duration::from_secs(30),
        || async {
            edgeops_integration_tests::check(
                stats.feeding.load(std::sync::atomic::Ordering::Relaxed),
                "not feeding yet",
            )
        },
    )
    .await;
}

/// Stream messages count (a local or hub stream).
pub async fn stream_messages(js: &async_nats::jetstream::Context, stream: &str) -> u64 {
    match js.get_stream(stream).await {
        Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
        Err(_) => 0,
    }
}
