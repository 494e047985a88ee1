//! Edge inference end to end: real hub and leaf NATS, real ONNX Runtime, models signed and
//! stored as the registry would. A device forecasts persistence until its desired model is
//! fetched through the leaf link and verified; tampered or untrusted models are refused with
//! the reason and the serving model stays; a hot swap under load drops nothing and mixes
//! nothing; desired state changed during an outage applies when the link returns; a gateway
//! restarted without uplink serves its cached model.

pub mod fixtures;
mod footprint;
mod hot_swap;
mod outage;

use std::time::Duration;

use edgeops_artifacts::sha256_hex;
use edgeops_contracts::deployment::{Forecast, ForecastKind, decode_hub_forecasts};
use edgeops_contracts::streams;
use edgeops_inference::Model;
use edgeops_integration_tests::services::spawn_gateway_observed;
use edgeops_integration_tests::{TestStack, check, wait_until};

use self::fixtures::*;
use crate::support::wait_for_local_stream;

/// Checks a forecast made from the reading of minute `m` (all of `minutes` published so far):
/// by `model` (its exact output for the row of `m`'s bin) if `model` is given and the row
/// exists, else persistence (the reading's own CO2).
fn assert_forecast(forecast: &Forecast, minutes: &[i64], m: i64, model: Option<(u32, &Model)>) {
    assert_eq!(forecast.ts, minute(m - m % 5), "origin bin of minute {m}");
    match (model, expected_row(minutes, m)) {
        (Some((version, reference)), Some(row)) => {
            let value = reference.predict_one(&row).unwrap();
            assert_eq!(
                forecast.kind,
                ForecastKind::Model,
                "minute {m}: {forecast:?}"
            );
            assert_eq!(forecast.version, Some(version), "minute {m}");
            assert_eq!(
                forecast.value,
                f64::from(value),
                "minute {m}: v{version}'s exact output"
            );
        }
        _ => {
            assert_eq!(
                forecast.kind,
                ForecastKind::Persistence,
                "minute {m}: {forecast:?}"
            );
            assert_eq!((forecast.model.as_deref(), forecast.version), (None, None));
            assert_eq!(forecast.value, reading_values(m)["co2_ppm"], "minute {m}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_inference_persistence_then_the_verified_model_and_refusals_with_reasons() {
    let stack = TestStack::start(&[SITE]).await;
    stack.register_sites(&[SITE]).await;
    let cache = tempfile::tempdir().unwrap();
    let (gateway, _, stats) = spawn_gateway_observed(gateway_config(&stack, cache.path()));
    let leaf = stack.leaf_client(SITE).await;
    wait_for_local_stream(&leaf, SITE).await;
    wait_until_feeding(&stats).await;
    let mut forecasts = Forecasts::subscribe(&leaf).await;
    let mut minutes = Vec::new();

    // (a) No model: persistence, marked as such, one forecast per reading.
    for m in (0..=20).step_by(5) {
        minutes.push(m);
        publish_reading(&leaf, m).await;
        assert_forecast(&forecasts.next().await, &minutes, m, None);
    }

    // (b) Desired v1: fetched over the leaf link, verified, applied and reported.
    let v1 = publish_model(&stack, 1).await;
    put_desired(&stack, &v1).await;
    let applied = wait_for_event(&stack, "edge.model_applied", 1).await;
    assert_eq!(applied.data["from"], "fetched");
    assert_eq!(applied.data["device"], DEVICE);
    assert_eq!(
        applied.meta.correlation_id,
        v1.rollout.unwrap(),
        "in the rollout's flow"
    );
    assert!(applied.data["warm_up_us"].as_u64().unwrap() > 0);
    let reference_v1 = reference(1);
    for m in (25..=90).step_by(5) {
        minutes.push(m);
        publish_reading(&leaf, m).await;
        assert_forecast(
            &forecasts.next().await,
            &minutes,
            m,
            Some((1, &reference_v1)),
        );
    }
    assert!(
        expected_row(&minutes, 90).is_some(),
        "the last forecasts were the model's"
    );

    // (c) Refusals, each with its reason; v1 keeps serving after every one.
    let genuine = model_bytes(2);
    let mut tampered = genuine.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    store_object(&stack, &object_name(2), &tampered).await;
    let tampered_artifact = desired(signed(2, &genuine, &trusted_key()));

    let v3 = model_bytes(3);
    store_object(&stack, &object_name(3), &v3).await;
    let mut wrong_digest = manifest(3, &v3);
    wrong_digest.artifact.sha256 = sha256_hex(b"some other artifact");
    let wrong_digest = desired(edgeops_artifacts::sign(wrong_digest, &trusted_key()).unwrap());

    let v4 = model_bytes(4);
    store_object(&stack, &object_name(4), &v4).await;
    let untrusted = desired(signed(4, &v4, &stranger_key()));

    let v5 = model_bytes(5);
    store_object(&stack, &object_name(5), &v5).await;
    let mut altered = desired(signed(5, &v5, &trusted_key()));
    altered.signed.manifest.horizon_bins = 1;

    let cases = [
        (tampered_artifact, "digest_mismatch"),
        (wrong_digest, "digest_mismatch"),
        (untrusted, "unknown_key"),
        (altered, "bad_signature"),
    ];
    let mut m = 90;
    for (bad, reason) in cases {
        put_desired(&stack, &bad).await;
        let refused = wait_for_event(&stack, "edge.model_refused", bad.version).await;
        assert_eq!(refused.data["reason"], reason, "{:?}", refused.data);
        assert!(!refused.data["detail"].as_str().unwrap().is_empty());
        m += 5;
        minutes.push(m);
        publish_reading(&leaf, m).await;
        assert_forecast(
            &forecasts.next().await,
            &minutes,
            m,
            Some((1, &reference_v1)),
        );
    }
    let applied: Vec<_> = device_events(&stack)
        .await
        .into_iter()
        .filter(|e| e.meta.event_type == "edge.model_applied")
        .collect();
    assert_eq!(applied.len(), 1, "only v1 was ever applied");

    // Every forecast is kept at the site. Each reading was in a bin of its own, so each of the
    // model's forecasts reached the hub too (the link was up throughout), packed per site;
    // persistence's stay at the site (the hub computes persistence itself).
    let published = minutes.len() as u64;
    let local = async_nats::jetstream::with_domain(leaf.clone(), format!("edge-{SITE}"));
    assert_eq!(
        stream_messages(&local, streams::LOCAL_FORECASTS).await,
        published
    );
    let by_model: Vec<(String, chrono::DateTime<chrono::Utc>, f64)> =
        crate::support::stream_messages(&local, streams::LOCAL_FORECASTS)
            .await
            .iter()
            .map(|(_, payload)| serde_json::from_slice::<Forecast>(payload).unwrap())
            .filter(|f| f.kind == ForecastKind::Model)
            .map(|f| (f.device.to_string(), f.ts, f.value))
            .collect();
    assert!(
        !by_model.is_empty() && (by_model.len() as u64) < published,
        "persistence first, then the model"
    );
    let hub_forecasts = || async {
        stack
            .hub_messages(streams::HUB_FORECASTS)
            .await
            .iter()
            .flat_map(|(_, payload)| decode_hub_forecasts(payload).unwrap())
            .collect::<Vec<_>>()
    };
    wait_until(
        "every model forecast on the hub",
        Duration::from_secs(30),
        || async {
            let on_hub = hub_forecasts().await.len();
            assert!(
                on_hub <= by_model.len(),
                "{on_hub} forecasts on the hub, {} made by the model",
                by_model.len()
            );
            check(
                on_hub == by_model.len(),
                format!("{on_hub} of {}", by_model.len()),
            )
        },
    )
    .await;
    for (forecast, (device, ts, value)) in hub_forecasts().await.iter().zip(&by_model) {
        assert_eq!(
            (forecast.device.as_str(), forecast.ts),
            (device.as_str(), *ts)
        );
        assert_eq!(forecast.kind, ForecastKind::Model);
        assert!(
            (forecast.value - value).abs() <= value.abs() * 5e-4,
            "{} on the hub for {value} made: four significant digits",
            forecast.value
        );
    }
    gateway.shutdown().await;
}
