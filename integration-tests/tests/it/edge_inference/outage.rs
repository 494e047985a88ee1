//! (e) Desired state changed while the uplink is down is applied when it returns; a rollback to
//! the previous version swaps without fetching; (f) a gateway restarted while the uplink is cut
//! serves its cached model.

use std::time::Duration;

use edgeops_contracts::EventEnvelope;
use edgeops_contracts::deployment::{DesiredModel, Forecast, ForecastKind};
use edgeops_integration_tests::services::spawn_gateway_observed;
use edgeops_integration_tests::{TestStack, wait_until};
use serde_json::Value;
use uuid::Uuid;

use super::fixtures::*;
use crate::support::wait_for_local_stream;

/// Publishes the reading of minute `m` and returns its forecast.
async fn forecast_of(
    leaf: &async_nats::Client,
    forecasts: &mut Forecasts,
    minutes: &mut Vec<i64>,
    m: i64,
) -> Forecast {
    minutes.push(m);
    publish_reading(leaf, m).await;
    forecasts.next().await
}

/// Asserts `forecast` (of minute `m`) is `version`'s exact output for its row.
fn assert_from(forecast: &Forecast, minutes: &[i64], m: i64, version: u32) {
    let row = expected_row(minutes, m).expect("enough history for a row");
    let value = reference(version).predict_one(&row).unwrap();
    assert_eq!(
        forecast.kind,
        ForecastKind::Model,
        "minute {m}: {forecast:?}"
    );
    assert_eq!(forecast.version, Some(version), "minute {m}: {forecast:?}");
    assert_eq!(forecast.value, f64::from(value), "minute {m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_inference_outage_applies_desired_state_late_and_a_restart_serves_the_cache() {
    let stack = TestStack::start(&[SITE]).await;
    stack.register_sites(&[SITE]).await;
    let cache = tempfile::tempdir().unwrap();
    let v1 = publish_model(&stack, 1).await;
    let v2 = publish_model(&stack, 2).await;
    put_desired(&stack, &v1).await;
    let (gateway, _, stats) = spawn_gateway_observed(gateway_config(&stack, cache.path()));
    let leaf = stack.leaf_client(SITE).await;
    wait_for_local_stream(&leaf, SITE).await;
    wait_for_event(&stack, "edge.model_applied", 1).await;
    wait_until_feeding(&stats).await;
    let mut forecasts = Forecasts::subscribe(&leaf).await;
    let mut minutes = Vec::new();
    for m in (0..60).step_by(5) {
        forecast_of(&leaf, &mut forecasts, &mut minutes, m).await;
    }
    let mut m = 55;
    assert_from(
        &forecasts_last(&leaf, &mut forecasts, &mut minutes, &mut m).await,
        &minutes,
        m,
        1,
    );

    // (e) The uplink goes; v2 becomes desired on the hub; the site keeps forecasting with v1.
    stack.cut_uplink(SITE);
    put_desired(&stack, &v2).await;
    let during = forecasts_last(&leaf, &mut forecasts, &mut minutes, &mut m).await;
    assert_from(&during, &minutes, m, 1);
    stack.restore_uplink(SITE);
    stack.wait_for_uplink(SITE).await;
    let applied = wait_for_event(&stack, "edge.model_applied", 2).await;
    assert_eq!(applied.data["from"], "fetched");
    let after = forecasts_last(&leaf, &mut forecasts, &mut minutes, &mut m).await;
    assert_from(&after, &minutes, m, 2);

    // A rollback to v1 (another rollout) swaps back to the still-loaded previous model, without
    // a fetch; a rollout asking for what already serves is answered too.
    let rollback = DesiredModel {
        rollout: Some(Uuid::now_v7()),
        ..v1.clone()
    };
    put_desired(&stack, &rollback).await;
    let back = wait_for_answer(&stack, &rollback).await;
    assert_eq!(back.data["from"], "previous");
    let rolled_back = forecasts_last(&leaf, &mut forecasts, &mut minutes, &mut m).await;
    assert_from(&rolled_back, &minutes, m, 1);
    let again = DesiredModel {
        rollout: Some(Uuid::now_v7()),
        ..v1.clone()
    };
    put_desired(&stack, &again).await;
    assert_eq!(
        wait_for_answer(&stack, &again).await.data["from"],
        "serving"
    );
    let forward = DesiredModel {
        rollout: Some(Uuid::now_v7()),
        ..v2.clone()
    };
    put_desired(&stack, &forward).await;
    assert_eq!(
        wait_for_answer(&stack, &forward).await.data["from"],
        "previous"
    );

    // (f) Restart with the uplink cut: the cached v2 serves, verified again from disk.
    stack.cut_uplink(SITE);
    gateway.shutdown().await;
    let (gateway, _, stats) = spawn_gateway_observed(gateway_config(&stack, cache.path()));
    wait_until_feeding(&stats).await;
    let restarted = forecasts_last(&leaf, &mut forecasts, &mut minutes, &mut m).await;
    assert_from(&restarted, &minutes, m, 2);
    gateway.shutdown().await;
    stack.restore_uplink(SITE);
}

/// Publishes the next reading (minute `*m + 5`) and returns its forecast, skipping any forecast
/// of an earlier reading still in flight.
async fn forecasts_last(
    leaf: &async_nats::Client,
    forecasts: &mut Forecasts,
    minutes: &mut Vec<i64>,
    m: &mut i64,
) -> Forecast {
    *m += 5;
    let origin = minute(*m - *m % 5);
    let mut forecast = forecast_of(leaf, forecasts, minutes, *m).await;
    while forecast.ts != origin {
        forecast = forecasts.next().await;
    }
    forecast
}

/// Waits for the `edge.model_applied` event answering `desired`'s rollout.
async fn wait_for_answer(stack: &TestStack, desired: &DesiredModel) -> EventEnvelope<Value> {
    let rollout = desired.rollout.unwrap().to_string();
    wait_until("the rollout's answer", Duration::from_secs(30), || async {
        let events = device_events(stack).await;
        let answer = events.iter().find(|e| {
            e.meta.event_type == "edge.model_applied" && e.data["rollout"] == rollout.as_str()
        });
        match answer {
            Some(event) => {
                assert_eq!(event.data["version"], desired.version);
                assert_eq!(event.meta.correlation_id.to_string(), rollout);
                Ok(Some(event.clone()))
            }
            None => Err(format!("{} events", events.len())),
        }
    })
    .await
}
