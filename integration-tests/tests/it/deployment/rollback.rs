//! (b) A version that forecasts clearly worse live is rolled back by its gate: v1 (a model that
//! forecasts the rooms' CO2 wave exactly) passes both live gates against persistence at the
//! same origins and horizon and completes; v2 (persistence plus 1,500 ppm) reaches the canary,
//! whose live error fails the gate; the canary devices swap back to v1 (from the previous slot,
//! no fetch) and forecast with it again. The verdicts say how many forecasts over what span.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use edgeops_deployment_api::DeploymentClient;
use edgeops_deployment_api::{GateSettings, Selector, Status, Strategy};
use edgeops_deployment_api::{StartRequest, WaveState};
use edgeops_integration_tests::services::{spawn_deployment, spawn_ingest, spawn_registry};
use edgeops_integration_tests::{TestStack, check, wait_until};
use edgeops_registry_api::RegistryClient;

use super::fixtures::*;
use crate::support::{wait_for_local_stream, wait_for_rows};

const SITE: &str = "s1";
const ROOMS: usize = 6;

fn start(version: u32, gates: GateSettings) -> StartRequest {
    StartRequest {
        model: MODEL.into(),
        version,
        selector: Selector {
            sites: vec![SITE.into()],
            ..Selector::default()
        },
        strategy: Some(Strategy {
            canary_share: 0.5,
            waves: vec![1.0],
        }),
        gates: Some(gates),
        actor: "ana".into(),
    }
}

/// Distinct rooms whose latest stored forecast is of `version`.
async fn rooms_forecasting(pool: &sqlx::PgPool, rooms: &[String], version: i32) -> usize {
    let latest: Vec<(String, i32)> = sqlx::query_as(
        "SELECT DISTINCT ON (device_id) device_id, version FROM deployment.forecasts
         WHERE site_id = $1 ORDER BY device_id, origin_at DESC",
    )
    .bind(SITE)
    .fetch_all(pool)
    .await
    .unwrap_or_default();
    latest
        .iter()
        .filter(|(device, v)| rooms.contains(device) && *v == version)
        .count()
}

/// The number of judged forecasts a verdict names ("... ; 140 forecasts of 3 devices, ...").
fn judged(detail: &str) -> u64 {
    detail
        .split("; ")
        .find_map(|part| part.split(" forecasts of ").next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_worse_live_error_is_rolled_back_by_the_gate() {
    let stack = TestStack::start(&[SITE]).await;
    stack.register_sites(&[SITE]).await;
    let cache = tempfile::tempdir().unwrap();
    let ingest = spawn_ingest(&stack);
    let registry = spawn_registry(&stack);
    let deployment = spawn_deployment(&stack);
    let gateway = spawn_inference_gateway(&stack, SITE, cache.path());
    let leaf = stack.leaf_client(SITE).await;
    wait_for_local_stream(&leaf, SITE).await;
    let rooms: Vec<usize> = (0..ROOMS).collect();
    publish_round(&leaf, SITE, &rooms, 0).await;
    let pool = stack.pool().await;
    wait_for_rows(&pool, ROOMS as i64, Duration::from_secs(60)).await;

    // The rooms keep reporting, one 5-minute bin every 40 ms, until the test ends.
    let stop = Arc::new(AtomicBool::new(false));
    let bin = Arc::new(AtomicI64::new(1));
    let publishing = {
        let (stop, bin, leaf, rooms) = (stop.clone(), bin.clone(), leaf.clone(), rooms.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let b = bin.fetch_add(1, Ordering::Relaxed);
                publish_round(&leaf, SITE, &rooms, b).await;
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        })
    };

    let hub = stack.hub_client().await;
    let registry_client = RegistryClient::new(hub.clone());
    let (weights, bias) = sine_forecaster();
    register_linear_model(&stack, &registry_client, &weights, bias, 1).await;
    register_model(&stack, &registry_client, 1_500.0, 2).await;
    let client = DeploymentClient::new(hub);

    // Both versions are judged on live error over a 2-second window (about 50 bins a room),
    // by the default rule: at least 30 judged forecasts, pass below 1.05x persistence's MSE.
    let gated = GateSettings {
        window_secs: 2,
        min_forecasts: 30,
        apply_timeout_secs: 30,
        ..GateSettings::default()
    };
    let first = client.start(&start(1, gated.clone())).await.unwrap();
    let completed = status_when(
        &client,
        first.rollout,
        "v1 completed",
        Duration::from_secs(45),
        |s| s.status == Status::Completed,
    )
    .await;
    let passed: Vec<&str> = completed
        .history
        .iter()
        .filter(|h| h.event_type == "rollout.gate_passed")
        .map(|h| h.detail.as_str())
        .collect();
    assert_eq!(passed.len(), 2, "canary and wave 1 passed: {passed:?}");
    for detail in &passed {
        assert!(
            detail.contains("below 1.05x with 95 % confidence")
                && detail.contains("forecasts of 3 devices, targets")
                && detail.contains("horizon 12 bins"),
            "passed on live error, with counts and span: {detail}"
        );
        assert!(judged(detail) >= 30, "{detail}");
    }
    eprintln!("v1 gate verdicts: {passed:?}");
    let names: Vec<String> = rooms.iter().map(|i| room(*i)).collect();
    wait_until(
        "every room forecasting with v1",
        Duration::from_secs(30),
        || async {
            let n = rooms_forecasting(&pool, &names, 1).await;
            check(n == ROOMS, format!("{n} of {ROOMS}"))
        },
    )
    .await;

    // v2 to the canary half, judged the same way.
    let second = client.start(&start(2, gated)).await.unwrap();
    assert_eq!(second.waves, [3, 3]);
    let rolled_back = status_when(
        &client,
        second.rollout,
        "the gate to roll v2 back",
        Duration::from_secs(45),
        |s| s.status == Status::RolledBack,
    )
    .await;
    let failed = rolled_back
        .history
        .iter()
        .find(|h| h.event_type == "rollout.gate_failed")
        .expect("a gate_failed event");
    assert!(
        failed
            .detail
            .contains("worse than persistence with 95 % confidence")
            && failed.detail.contains("forecasts of 3 devices, targets"),
        "failed on live error, with counts and span: {}",
        failed.detail
    );
    assert!(judged(&failed.detail) >= 30, "{}", failed.detail);
    assert_eq!(rolled_back.waves[0].state, WaveState::RolledBack);
    assert_eq!(
        rolled_back.waves[1].state,
        WaveState::Pending,
        "wave 1 never switched"
    );
    eprintln!("gate verdict: {}", failed.detail);

    // The canary rooms swap back to v1 from the previous slot, for this rollout...
    let canary: Vec<String> = names[..3].to_vec();
    wait_until("the canary back on v1", Duration::from_secs(30), || async {
        let back = device_reports(&stack)
            .await
            .into_iter()
            .filter(|e| {
                e.meta.event_type == "edge.model_applied"
                    && e.data["version"] == 1
                    && e.data["from"] == "previous"
                    && e.data["rollout"] == second.rollout.to_string()
            })
            .count();
        check(back == canary.len(), format!("{back} of {}", canary.len()))
    })
    .await;
    for name in &canary {
        let held = desired(&stack, SITE, name).await.unwrap();
        assert_eq!((held.version, held.rollout), (1, Some(second.rollout)));
    }
    for name in &names[3..] {
        let held = desired(&stack, SITE, name).await.unwrap();
        assert_eq!(
            (held.version, held.rollout),
            (1, Some(first.rollout)),
            "untouched"
        );
    }
    // ...and forecast with v1 again.
    wait_until(
        "the canary forecasting with v1 again",
        Duration::from_secs(30),
        || async {
            let n = rooms_forecasting(&pool, &canary, 1).await;
            check(n == canary.len(), format!("{n} of {}", canary.len()))
        },
    )
    .await;

    stop.store(true, Ordering::Relaxed);
    publishing.await.unwrap();
    gateway.shutdown().await;
    deployment.shutdown().await;
    registry.shutdown().await;
    ingest.shutdown().await;
}
