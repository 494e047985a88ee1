//! preprocessing turns readings into feature rows incrementally and idempotently: readings
//! arriving late, out of order and in many batches give exactly the rows of one full
//! computation, and re-running over the same readings gives identical rows.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use edgeops_bus::topology::PREPROCESSING_CONSUMER;
use edgeops_contracts::streams;
use edgeops_features::{FeatureSpec, compute_rows};
use edgeops_integration_tests::services::spawn_preprocessing;
use edgeops_integration_tests::{TestStack, check, wait_until};

use crate::support::{base_time, hub_subject};

const DEVICES: [&str; 2] = ["room-a", "room-b"];
const MINUTES: i64 = 600;

type Rows = Vec<(String, DateTime<Utc>, Vec<f64>, bool)>;

/// One reading a minute with a daily-ish wave, a spike, and a 40-minute sensor dropout.
fn readings() -> Vec<(String, DateTime<Utc>, f64, f64)> {
    let mut out = Vec::new();
    for (d, device) in DEVICES.iter().enumerate() {
        for minute in 0..MINUTES {
            if d == 1 && (200..240).contains(&minute) {
                continue;
            }
            let ts = base_time()
                + chrono::Duration::minutes(minute)
                + chrono::Duration::seconds(7 * d as i64);
            let wave = (minute as f64 / 45.0).sin() * 150.0;
            let co2 = if minute == 300 {
                9000.0
            } else {
                650.0 + wave + (minute % 7) as f64 * 1.5
            };
            out.push(((*device).to_owned(), ts, co2, 21.0 + wave / 300.0));
        }
    }
    out
}

fn payload(ts: DateTime<Utc>, co2: f64, temperature: f64) -> String {
    format!(
        r#"{{"ts":"{}","metrics":{{"co2_ppm":{co2},"temperature_c":{temperature},"humidity_pct":40}}}}"#,
        ts.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

async fn stored_rows(pool: &sqlx::PgPool) -> Rows {
    sqlx::query_as(
        "SELECT device_id, bin_start, features, interpolated FROM preprocessing.features ORDER BY device_id, bin_start",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn wait_until_consumed(stack: &TestStack) {
    let js = stack.hub_js().await;
    let stream = js.get_stream(streams::HUB_READINGS).await.unwrap();
    let total = stream.get_info().await.unwrap().state.messages;
    wait_until(
        "preprocessing to consume every reading",
        Duration::from_secs(90),
        || {
            let stream = stream.clone();
            async move {
                let info = stream
                    .consumer_info(PREPROCESSING_CONSUMER)
                    .await
                    .map_err(|e| e.to_string())?;
                let done = info.ack_floor.stream_sequence == total && info.num_ack_pending == 0;
                check(
                    done,
                    format!("ack floor {} of {total}", info.ack_floor.stream_sequence),
                )
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_and_out_of_order_readings_give_the_rows_of_a_full_computation() {
    let stack = TestStack::start(&[]).await;
    stack.register_sites(&["s1"]).await;
    let preprocessing = spawn_preprocessing(&stack);
    let js = stack.hub_js().await;
    let all = readings();
    // Interleaved chunks, late ones last: a shuffled arrival, deterministic for the test.
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by_key(|i| ((i * 7919) % 97, *i));
    for chunk in order.chunks(150) {
        let mut last_ack = None;
        for i in chunk {
            let (device, ts, co2, temp) = &all[*i];
            last_ack = Some(
                js.publish(hub_subject("s1", device), payload(*ts, *co2, *temp).into())
                    .await
                    .unwrap(),
            );
        }
        if let Some(ack) = last_ack {
            ack.await.unwrap();
        }
    }
    let pool = stack.pool().await;
    wait_until_consumed(&stack).await;

    // The same rows, computed at once over every sample by the shared feature code.
    let spec = FeatureSpec::indoor_air();
    let mut expected: Rows = Vec::new();
    for device in DEVICES {
        let mut series: BTreeMap<String, Vec<(DateTime<Utc>, f64)>> = BTreeMap::new();
        let mut mine: Vec<_> = all.iter().filter(|(d, ..)| d == device).collect();
        mine.sort_by_key(|(_, ts, ..)| *ts);
        for (_, ts, co2, temp) in mine {
            series
                .entry("co2_ppm".into())
                .or_default()
                .push((*ts, *co2));
            series
                .entry("temperature_c".into())
                .or_default()
                .push((*ts, *temp));
            series
                .entry("humidity_pct".into())
                .or_default()
                .push((*ts, 40.0));
        }
        for row in compute_rows(&spec, &series, None) {
            expected.push((device.to_owned(), row.ts, row.values, row.interpolated));
        }
    }
    let first_run = stored_rows(&pool).await;
    assert!(first_run.len() > 150, "{} rows", first_run.len());
    assert!(
        first_run == expected,
        "incremental rows differ from a full computation ({} vs {})",
        first_run.len(),
        expected.len()
    );
    assert!(
        first_run.iter().any(|(.., interpolated)| *interpolated),
        "short gaps were bridged and flagged"
    );

    // Re-run from nothing over the same stream: identical rows.
    preprocessing.shutdown().await;
    sqlx::query("TRUNCATE preprocessing.features, preprocessing.samples")
        .execute(&pool)
        .await
        .unwrap();
    js.get_stream(streams::HUB_READINGS)
        .await
        .unwrap()
        .delete_consumer(PREPROCESSING_CONSUMER)
        .await
        .unwrap();
    let again = spawn_preprocessing(&stack);
    wait_until_consumed(&stack).await;
    let second_run = stored_rows(&pool).await;
    assert!(second_run == first_run, "a replay gives identical rows");
    again.shutdown().await;
}
