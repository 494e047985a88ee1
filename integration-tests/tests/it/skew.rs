//! No training/serving skew: a quiet room whose readings the default policy's dead-band mostly
//! drops goes through the gateway, the leaf link, ingest and preprocessing, and the feature rows
//! preprocessing stores for training are the rows the gateway's model was served, bin for bin.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use edgeops_bus::topology::PREPROCESSING_CONSUMER;
use edgeops_contracts::deployment::{Forecast, ForecastKind};
use edgeops_contracts::{Reading, ReadingLimits, streams};
use edgeops_edge_gateway::forward::ForwarderStats;
use edgeops_integration_tests::services::{
    spawn_gateway_observed, spawn_ingest, spawn_preprocessing,
};
use edgeops_integration_tests::{TestStack, check, wait_until};

use crate::edge_inference::fixtures::{
    DEVICE, SITE, gateway_config, minute, publish_model, put_desired, wait_for_event,
    wait_until_feeding,
};
use crate::support::{forecast_subject, raw_subject, wait_for_local_stream};

const MINUTES: i64 = 480;

/// A quiet room: CO2 creeping up 2 ppm a minute with a few ppm of noise, temperature and
/// humidity all but flat. The default policy's bands (50 ppm, 1 °C, 3 %) hold back most of it.
fn quiet_room(m: i64) -> serde_json::Value {
    let noise = ((m * 37) % 11) as f64 - 5.0;
    serde_json::json!({
        "ts": minute(m).to_rfc3339(),
        "metrics": {
            "co2_ppm": 600.0 + 2.0 * m as f64 + noise,
            "temperature_c": 21.0 + 0.1 * ((m % 5) as f64),
            "humidity_pct": 45.0 + 0.5 * ((m % 3) as f64),
        },
    })
}

async fn hub_rows(pool: &sqlx::PgPool) -> BTreeMap<DateTime<Utc>, Vec<f64>> {
    let rows: Vec<(DateTime<Utc>, Vec<f64>)> = sqlx::query_as(
        "SELECT bin_start, features FROM preprocessing.features WHERE site_id = $1 AND device_id = $2",
    )
    .bind(SITE)
    .bind(DEVICE)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().collect()
}

/// Waits until the gateway has reduced every raw reading and the hub acknowledged every record.
async fn wait_until_forwarded(site_js: &async_nats::jetstream::Context, stats: &ForwarderStats) {
    let load =
        |counter: &std::sync::atomic::AtomicU64| counter.load(std::sync::atomic::Ordering::Relaxed);
    wait_until(
        "every reading reduced and sent",
        Duration::from_secs(60),
        || async {
            let reduced = site_js
                .get_stream(streams::LOCAL_REDUCED)
                .await
                .map_err(|e| e.to_string())?
                .info()
                .await
                .map_err(|e| e.to_string())?
                .state
                .last_sequence;
            let (raw, cursor) = (load(&stats.raw), load(&stats.cursor));
            check(
                raw == MINUTES as u64 && cursor == reduced,
                format!("{raw} raw read, {cursor} of {reduced} records sent"),
            )
        },
    )
    .await;
}

/// Readings on the hub, unpacked.
async fn hub_readings(stack: &TestStack) -> usize {
    stack
        .hub_messages(streams::HUB_READINGS)
        .await
        .iter()
        .flat_map(|(subject, payload)| {
            Reading::all_from_message(subject, payload, Utc::now(), &ReadingLimits::default())
        })
        .filter(Result::is_ok)
        .count()
}

async fn wait_until_preprocessed(stack: &TestStack) {
    let js = stack.hub_js().await;
    let stream = js.get_stream(streams::HUB_READINGS).await.unwrap();
    wait_until(
        "preprocessing to take every forwarded reading",
        Duration::from_secs(60),
        || {
            let mut stream = stream.clone();
            async move {
                let total = stream
                    .info()
                    .await
                    .map_err(|e| e.to_string())?
                    .state
                    .last_sequence;
                let info = stream
                    .consumer_info(PREPROCESSING_CONSUMER)
                    .await
                    .map_err(|e| e.to_string())?;
                let done = total > 0
                    && info.ack_floor.stream_sequence == total
                    && info.num_ack_pending == 0;
                check(
                    done,
                    format!("ack floor {} of {total}", info.ack_floor.stream_sequence),
                )
            }
        },
    )
    .await;
}

/// Whether two model inputs agree within f32 rounding (the hub keeps f64, the model takes f32).
fn same_within_f32(served: &[f32], stored: &[f64]) -> bool {
    served.len() == stored.len()
        && served.iter().zip(stored).all(|(s, h)| {
            let h = *h as f32;
            (s - h).abs() <= 4.0 * f32::EPSILON * s.abs().max(h.abs()).max(1.0)
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rows_served_at_the_edge_are_the_rows_preprocessing_trains_on() {
    let stack = TestStack::start(&[SITE]).await;
    stack.register_sites(&[SITE]).await;
    let ingest = spawn_ingest(&stack);
    let preprocessing = spawn_preprocessing(&stack);
    let cache = tempfile::tempdir().unwrap();
    let mut config = gateway_config(&stack, cache.path());
    config.policy = "default".into();
    let (gateway, stats, inference) = spawn_gateway_observed(config);
    let leaf = stack.leaf_client(SITE).await;
    wait_for_local_stream(&leaf, SITE).await;
    wait_until_feeding(&inference).await;
    let v1 = publish_model(&stack, 1).await;
    put_desired(&stack, &v1).await;
    wait_for_event(&stack, "edge.model_applied", 1).await;
    let mut forecasts = leaf
        .subscribe(forecast_subject(SITE, DEVICE))
        .await
        .unwrap();
    leaf.flush().await.unwrap();

    let site_js = async_nats::jetstream::with_domain(leaf.clone(), format!("edge-{SITE}"));
    for m in 0..MINUTES {
        let payload = serde_json::to_vec(&quiet_room(m)).unwrap();
        site_js
            .publish(raw_subject(SITE, DEVICE), payload.into())
            .await
            .unwrap()
            .await
            .unwrap();
    }

    // Every reading that travelled made one forecast at the site.
    wait_until_forwarded(&site_js, &stats).await;
    wait_until_preprocessed(&stack).await;
    let pool = stack.pool().await;
    let travelled = hub_readings(&stack).await;
    assert!(
        (5..MINUTES as usize / 4).contains(&travelled),
        "the dead-band holds most of a quiet room back: {travelled} of {MINUTES} travelled"
    );
    let mut served: Vec<Forecast> = Vec::new();
    while served.len() < travelled {
        let message = tokio::time::timeout(
            Duration::from_secs(20),
            futures::StreamExt::next(&mut forecasts),
        )
        .await
        .unwrap_or_else(|_| panic!("{} of {travelled} forecasts at the site", served.len()))
        .unwrap();
        served.push(serde_json::from_slice(&message.payload).unwrap());
    }

    // The last row served for each origin bin: the forecast the hub receives for it.
    let last_served: BTreeMap<DateTime<Utc>, Vec<f32>> = served
        .into_iter()
        .filter(|f| f.kind == ForecastKind::Model)
        .filter_map(|f| Some((f.ts, f.features?)))
        .collect();
    assert!(
        last_served.len() >= 5,
        "enough bins served by the model to compare: {}",
        last_served.len()
    );
    let stored = hub_rows(&pool).await;
    for (origin, row) in &last_served {
        let hub_row = stored
            .get(origin)
            .unwrap_or_else(|| panic!("preprocessing has no row for the served bin {origin}"));
        assert!(
            same_within_f32(row, hub_row),
            "bin {origin}: served {row:?}\nstored {hub_row:?}"
        );
    }

    gateway.shutdown().await;
    preprocessing.shutdown().await;
    ingest.shutdown().await;
}
