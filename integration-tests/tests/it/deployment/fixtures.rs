//! What the deployment tests share: real ONNX models registered and signed by the real
//! registry, gateways with inference at each site, simulated rooms' readings, and waits on a
//! rollout's status.

use std::time::Duration;

use chrono::{DateTime, Utc};
use edgeops_contracts::deployment::DesiredModel;
use edgeops_contracts::{EventEnvelope, events::upcasters, streams};
use edgeops_deployment_api::DeploymentClient;
use edgeops_deployment_api::RolloutStatus;
use edgeops_edge_gateway::GatewayConfig;
use edgeops_features::FeatureSpec;
use edgeops_integration_tests::services::{Running, registry_test_key, spawn_gateway_with_config};
use edgeops_integration_tests::{TestStack, wait_until};
use edgeops_onnx::{ModelGraph, Regressor};
use edgeops_registry_api::RegistryClient;
use serde_json::Value;
use uuid::Uuid;

use crate::registry::fixtures::{GOOD, completion, publish_completion, put_artifact, signed};

pub const MODEL: &str = "co2-room";

/// A model over the indoor-air features forecasting, 12 bins ahead, the target's current value
/// plus `bias` plus `weights` (by feature name) times the features: without weights,
/// persistence with an offset (0 = exactly persistence).
pub fn linear_model_bytes(weights: &[(&str, f64)], bias: f64, run: Uuid) -> Vec<u8> {
    let spec = FeatureSpec::indoor_air();
    let names = spec.names();
    let weights = names
        .iter()
        .map(|n| {
            weights
                .iter()
                .find(|(w, _)| w == n)
                .map_or(0.0, |(_, v)| *v)
        })
        .collect();
    let graph = ModelGraph {
        feature_names: names.clone(),
        regressor: Regressor::Linear { weights, bias },
        plus_feature: names.iter().position(|n| *n == spec.target),
        metadata: vec![
            ("edgeops.model".into(), MODEL.into()),
            ("edgeops.training_run".into(), run.to_string()),
            (
                "edgeops.feature_spec".into(),
                serde_json::to_string(&spec).unwrap(),
            ),
            ("edgeops.feature_names".into(), names.join(",")),
            ("edgeops.horizon_bins".into(), "12".into()),
        ],
        doc: format!("deployment test model, bias {bias}"),
        model_version: 1,
    };
    edgeops_onnx::encode(&graph).unwrap()
}

/// The weights and bias of a model that forecasts [`co2`] exactly 12 bins ahead from the
/// current bin and the one before: a sine obeys `s(t+h) = A s(t) + B s(t-1)` around its mean.
/// Far better than persistence, which misses the wave's whole swing over an hour.
pub fn sine_forecaster() -> (Vec<(&'static str, f64)>, f64) {
    let (w, h) = (1.0_f64 / 9.0, 12.0);
    let a = (w * (h + 1.0)).sin() / w.sin();
    let b = -(w * h).sin() / w.sin();
    (
        vec![("co2_ppm", a - 1.0), ("co2_ppm_lag1", b)],
        650.0 * (1.0 - a - b),
    )
}

/// Stores a model forecasting persistence plus `bias` as a training run would and waits until the registry has
/// signed it as `version` of [`MODEL`].
pub async fn register_model(stack: &TestStack, registry: &RegistryClient, bias: f64, version: u32) {
    register_linear_model(stack, registry, &[], bias, version).await;
}

/// As [`register_model`], for [`linear_model_bytes`].
pub async fn register_linear_model(
    stack: &TestStack,
    registry: &RegistryClient,
    weights: &[(&str, f64)],
    bias: f64,
    version: u32,
) {
    let js = stack.hub_js().await;
    let run = Uuid::now_v7();
    let artifact = put_artifact(&js, MODEL, run, &linear_model_bytes(weights, bias, run)).await;
    let spec = FeatureSpec::indoor_air();
    let mut done = completion(MODEL, run, &GOOD, artifact);
    done.request.spec = spec.name.clone();
    done.request.horizon_bins = 12;
    done.dataset.spec_name = spec.name.clone();
    done.dataset.spec_version = spec.version;
    done.dataset.horizon_bins = 12;
    done.feature_names = spec.names();
    publish_completion(&js, &done).await;
    signed(registry, MODEL, version).await;
}

/// A gateway with inference at `site`, trusting the registry's key.
pub fn spawn_inference_gateway(stack: &TestStack, site: &str, cache: &std::path::Path) -> Running {
    let leaf = stack.leaf(site);
    let mut config = GatewayConfig::local(leaf.site.clone(), leaf.url.clone());
    config.trusted_key = vec![registry_test_key().public_key().to_base64()];
    config.model_cache_dir = Some(cache.join(site));
    spawn_gateway_with_config(config).0
}

pub fn room(i: usize) -> String {
    format!("room-{i:03}")
}

/// Sensor time of bin `bin` (5-minute bins from the support module's base time).
pub fn bin_time(bin: i64) -> DateTime<Utc> {
    crate::support::base_time() + chrono::Duration::minutes(5 * bin)
}

/// Room `i`'s CO2 in bin `bin`: a slow wave, shifted per room.
pub fn co2(i: usize, bin: i64) -> f64 {
    650.0 + 80.0 * ((bin as f64 + 7.0 * i as f64) / 9.0).sin()
}

/// Publishes bin `bin`'s reading of every room `rooms` at `site`, acknowledged by the local
/// stream, as the rooms' sensors would.
pub async fn publish_round(leaf: &async_nats::Client, site: &str, rooms: &[usize], bin: i64) {
    let js = async_nats::jetstream::with_domain(leaf.clone(), format!("edge-{site}"));
    let mut acks = Vec::with_capacity(rooms.len());
    for i in rooms {
        let payload = serde_json::json!({
            "ts": bin_time(bin).to_rfc3339(),
            "metrics": {
                "co2_ppm": co2(*i, bin),
                "temperature_c": 21.0 + (bin as f64 / 17.0).cos(),
                "humidity_pct": 45.0 + 5.0 * (bin as f64 / 23.0).sin(),
            },
        });
        let subject = crate::support::raw_subject(site, &room(*i));
        let ack = js
            .publish(subject, serde_json::to_vec(&payload).unwrap().into())
            .await
            .unwrap();
        acks.push(ack);
    }
    for ack in acks {
        ack.await.unwrap();
    }
}

/// Stores one reading of each `<site>:<device>` as ingest would, but arrived at the hub
/// `arrived_ago` before Postgres's now (`ingested_at`): what deployment judges liveness by.
/// Observed now, so a rule on sensor time (`observed_at`) would take them for the freshest
/// devices of all.
pub async fn heard(pool: &sqlx::PgPool, devices: &[&str], arrived_ago: Duration) {
    edgeops_store::migrate(pool).await.unwrap();
    for key in devices {
        let (site, device) = key.split_once(':').unwrap();
        sqlx::query(
            "INSERT INTO ingest.readings
                 (site_id, device_id, observed_at, metrics, hub_sequence, ingested_at)
             VALUES ($1, $2, now(), '{\"co2_ppm\": 650}', 0,
                     now() - make_interval(secs => $3))",
        )
        .bind(site)
        .bind(device)
        .bind(arrived_ago.as_secs_f64())
        .execute(pool)
        .await
        .unwrap();
    }
}

/// Polls the rollout's status until `done` holds for it.
pub async fn status_when(
    client: &DeploymentClient,
    rollout: Uuid,
    what: &str,
    timeout: Duration,
    done: impl Fn(&RolloutStatus) -> bool,
) -> RolloutStatus {
    wait_until(what, timeout, || {
        let status = client.status(rollout);
        let done = &done;
        async move {
            match status.await {
                Ok(status) if done(&status) => Ok(Some(status)),
                Ok(status) => Err(format!(
                    "{:?} wave {}: {:?}",
                    status.status,
                    status.wave,
                    status
                        .waves
                        .iter()
                        .map(|w| (w.devices, w.applied, w.failed, w.state))
                        .collect::<Vec<_>>()
                )),
                Err(err) => Err(err.to_string()),
            }
        }
    })
    .await
}

/// The desired state of `<site>.<device>` in the hub's bucket.
pub async fn desired(stack: &TestStack, site: &str, device: &str) -> Option<DesiredModel> {
    let kv = stack
        .hub_js()
        .await
        .get_key_value(streams::DESIRED_BUCKET)
        .await
        .unwrap();
    kv.get(format!("{site}.{device}"))
        .await
        .unwrap()
        .map(|v| serde_json::from_slice(&v).unwrap())
}

/// Every device report (`edge.model_applied` / `edge.model_refused`) in the hub's events.
pub async fn device_reports(stack: &TestStack) -> Vec<EventEnvelope<Value>> {
    stack
        .hub_messages(streams::EVENTS)
        .await
        .into_iter()
        .filter(|(subject, _)| subject.starts_with("edgeops.events.device."))
        .map(|(_, payload)| EventEnvelope::decode(&payload, &upcasters()).unwrap())
        .collect()
}
