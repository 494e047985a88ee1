//! (d) A hot swap under load: the gateway's own engine, deployer and model table, in-process,
//! against real NATS and ONNX Runtime, with forecasts requested far faster than readings arrive.
//!
//! The models use a compact variant of the indoor-air spec (short lags and windows, short gap
//! reach): the engine's cost per forecast is the feature computation over the spec's load
//! margin, and an unoptimised test build computing the full spec's 88 bins of margin would
//! measure the debug build's speed rather than the swap. What is under test (every request
//! answered, every answer exactly one model's) does not depend on the spec.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use edgeops_artifacts::TrustedKeys;
use edgeops_contracts::deployment::{Forecast, ForecastKind};
use edgeops_contracts::{DeviceId, Reading, SiteId, streams};
use edgeops_edge_gateway::inference::{Deployer, Engine, InferenceStats, ModelTable, Reporter};
use edgeops_features::FeatureSpec;
use edgeops_integration_tests::{TestStack, check, wait_until};
use tokio_util::sync::CancellationToken;

use super::fixtures::*;

/// Forecasts per second the engine is driven at (at least 1,000/s must be reached).
const RATE: u32 = 2_000;
/// Forecasts made after v2 first appears, before the run stops.
const AFTER_SWAP: usize = 2_000;

/// Indoor air with a quarter hour of lags and windows and short gaps: 9 bins of load margin.
fn compact() -> FeatureSpec {
    FeatureSpec {
        name: "indoor_air_compact".into(),
        version: 1,
        lags: vec![1, 2, 3],
        rolling: vec![3],
        max_gap_bins: 2,
        ..FeatureSpec::indoor_air()
    }
}

/// The feature row of request `i`'s reading from the readings of requests before it (more than
/// the load margin of history: the same row as from all of them).
fn row_of(i: usize) -> Option<Vec<f32>> {
    let minutes: Vec<i64> = (i.saturating_sub(20)..=i).map(|r| r as i64 * 5).collect();
    expected_row_with(&compact(), &minutes, i as i64 * 5)
}

fn reading(m: i64) -> Reading {
    Reading {
        site: SiteId::parse(SITE).unwrap(),
        device: DeviceId::parse(DEVICE).unwrap(),
        ts: minute(m),
        metrics: reading_values(m),
    }
}

/// Drives `engine` at [`RATE`] until `AFTER_SWAP` forecasts followed the first v2 one (or 60 s);
/// returns the requests made, every outcome with how long its call took, and the run's length.
fn drive(
    mut engine: Engine,
    swap_requested: &AtomicBool,
) -> (usize, Vec<(Forecast, Duration)>, Duration) {
    let start = Instant::now();
    let mut requests = 0;
    let mut outcomes = Vec::new();
    let mut after_swap = None;
    while after_swap.is_none_or(|seen: usize| outcomes.len() < seen + AFTER_SWAP)
        && start.elapsed() < Duration::from_secs(60)
    {
        let due = start + Duration::from_secs_f64(requests as f64 / f64::from(RATE));
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        // One reading per bin of sensor time: a fresh row for every forecast.
        let reading = reading(requests as i64 * 5);
        requests += 1;
        let called = Instant::now();
        if let Some(outcome) = engine.observe(&reading) {
            let took = called.elapsed();
            if after_swap.is_none() && outcome.version == Some(2) {
                after_swap = Some(outcomes.len());
            }
            outcomes.push((outcome, took));
        }
        if requests == RATE as usize {
            swap_requested.store(true, Ordering::SeqCst);
        }
    }
    (requests, outcomes, start.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_inference_hot_swap_under_load_drops_nothing_and_mixes_nothing() {
    let stack = TestStack::start(&[SITE]).await;
    stack.register_sites(&[SITE]).await;
    let v1 = publish_model_with(&stack, &compact(), 1).await;
    let v2 = publish_model_with(&stack, &compact(), 2).await;
    put_desired(&stack, &v1).await;

    let site = SiteId::parse(SITE).unwrap();
    let device = DeviceId::parse(DEVICE).unwrap();
    let client = stack.leaf_client(SITE).await;
    let hub_api = async_nats::jetstream::with_domain(client.clone(), streams::HUB_DOMAIN);
    let stop = CancellationToken::new();
    let (reporter, _reporting) = Reporter::spawn(
        site.clone(),
        async_nats::jetstream::new(client.clone()),
        stop.clone(),
    );
    let table = Arc::new(ModelTable::default());
    let trusted = TrustedKeys::from_keys([trusted_key().public_key().clone()]);
    let deployer = Deployer::new(
        site.clone(),
        hub_api,
        table.clone(),
        Arc::new(trusted),
        None,
        reporter,
        Arc::new(InferenceStats::default()),
    );
    let deploying = tokio::spawn(deployer.run(stop.clone()));
    wait_until("v1 to serve", Duration::from_secs(60), || async {
        let version = table.current(&device).map(|m| m.desired.version);
        check(version == Some(1), format!("{version:?}"))
    })
    .await;

    let engine = Engine::new(site, compact(), 12, table.clone());
    let swap_requested = Arc::new(AtomicBool::new(false));
    let driving = {
        let swap_requested = swap_requested.clone();
        tokio::task::spawn_blocking(move || drive(engine, &swap_requested))
    };
    wait_until("a second of load", Duration::from_secs(30), || async {
        check(swap_requested.load(Ordering::SeqCst), "still warming up")
    })
    .await;
    put_desired(&stack, &v2).await;
    let (requests, outcomes, elapsed) = driving.await.unwrap();

    // Nothing dropped: every request has its forecast.
    assert_eq!(outcomes.len(), requests, "a forecast for every request");
    let seconds = outcomes.iter().map(|(_, t)| t.as_secs_f64()).sum::<f64>();
    let (v1_ref, v2_ref) = (reference_with(&compact(), 1), reference_with(&compact(), 2));
    let mut versions = Vec::new();
    for (i, (forecast, _)) in outcomes.iter().enumerate() {
        // The row the shared feature code makes for this reading, from the readings before it.
        let row = row_of(i);
        assert_eq!(forecast.features, row, "forecast {i}: the engine's input");
        let Some(features) = &forecast.features else {
            // No row (too little history, or the newest bin cleaned away): persistence, flagged.
            assert_eq!(forecast.kind, ForecastKind::Persistence, "forecast {i}");
            continue;
        };
        // Exactly one model's output for exactly this row: never a half-loaded model.
        let expected = match forecast.version {
            Some(1) => v1_ref.predict_one(features).unwrap(),
            Some(2) => v2_ref.predict_one(features).unwrap(),
            other => panic!("forecast {i} from version {other:?}"),
        };
        assert_eq!(forecast.value, f64::from(expected), "forecast {i}");
        versions.push(forecast.version.unwrap_or_default());
    }
    let swap_at = versions.iter().position(|v| *v == 2).expect("v2 served");
    assert!(swap_at > 0, "v1 served before the swap");
    assert!(
        versions[swap_at..].iter().all(|v| *v == 2),
        "once v2 served, v1 never again"
    );
    let window = &outcomes[swap_at.saturating_sub(500)..(swap_at + 500).min(outcomes.len())];
    let slowest = window.iter().map(|(_, t)| *t).max().unwrap_or_default();
    let rate = requests as f64 / elapsed.as_secs_f64();
    eprintln!(
        "hot swap: {requests} forecasts in {elapsed:.2?} ({rate:.0}/s), v1 {swap_at} then v2 {}; \
         mean call {:.1} us, slowest call within 500 of the swap {slowest:?}",
        versions.len() - swap_at,
        seconds / requests as f64 * 1e6,
    );
    assert!(
        rate >= 1_000.0,
        "forecasts requested at {rate:.0}/s, not >= 1,000/s"
    );
    wait_for_event(&stack, "edge.model_applied", 2).await;
    stop.cancel();
    deploying.await.unwrap();
}
