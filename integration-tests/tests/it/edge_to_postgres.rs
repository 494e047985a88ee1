//! A reading published at an edge site crosses the leaf link and lands in Postgres once.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use edgeops_integration_tests::TestStack;
use std::sync::Arc;

use edgeops_edge_gateway::forward::ForwarderStats;
use edgeops_integration_tests::services::{Running, spawn_gateway, spawn_ingest};

use crate::support::{
    base_time, count_rows, raw_subject, reading_json, wait_for_local_stream, wait_for_rows,
};

/// One registered site `s1` with ingest and its gateway running, and a sensor connected.
struct Site {
    stack: TestStack,
    ingest: Running,
    gateway: Running,
    stats: Arc<ForwarderStats>,
    sensor: async_nats::Client,
}

impl Site {
    async fn start() -> Self {
        let stack = TestStack::start(&["s1"]).await;
        stack.register_sites(&["s1"]).await;
        let ingest = spawn_ingest(&stack);
        let (gateway, stats) = spawn_gateway(&stack, "s1");
        let sensor = stack.leaf_client("s1").await;
        wait_for_local_stream(&sensor, "s1").await;
        Self {
            stack,
            ingest,
            gateway,
            stats,
            sensor,
        }
    }
}

const DEVICES: [&str; 4] = ["room-101", "room-102", "room-201", "room-202"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readings_published_at_a_leaf_land_in_postgres_exactly_once() {
    let Site {
        stack,
        ingest,
        gateway,
        stats,
        sensor,
    } = Site::start().await;

    let per_device = 300;
    for n in 0..per_device {
        for device in DEVICES {
            // Plain core publish of JSON text: exactly what `nats pub` or a sensor sends.
            sensor
                .publish(raw_subject("s1", device), reading_json(n).into())
                .await
                .unwrap();
        }
    }
    sensor.flush().await.unwrap();
    let total = per_device * DEVICES.len() as i64;

    let pool = stack.pool().await;
    wait_for_rows(&pool, total, Duration::from_secs(60)).await;

    let rows: Vec<(String, String, DateTime<Utc>)> =
        sqlx::query_as("SELECT site_id, device_id, observed_at FROM ingest.readings")
            .fetch_all(&pool)
            .await
            .unwrap();
    let stored: BTreeSet<_> = rows
        .iter()
        .map(|(s, d, t)| (s.clone(), d.clone(), *t))
        .collect();
    let expected: BTreeSet<_> = (0..per_device)
        .flat_map(|n| {
            DEVICES.map(|d| {
                (
                    "s1".to_owned(),
                    d.to_owned(),
                    base_time() + chrono::Duration::seconds(n * 10),
                )
            })
        })
        .collect();
    assert_eq!(rows.len() as i64, total, "no row twice");
    assert_eq!(stored, expected, "every published reading, and only those");
    let forwarded_readings = stats
        .forwarded_readings
        .load(std::sync::atomic::Ordering::Relaxed);
    let hub_messages = stats.forwarded.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(forwarded_readings, total as u64, "every reading forwarded");
    assert!(
        hub_messages < forwarded_readings,
        "readings travel packed per device: {hub_messages} hub messages for {forwarded_readings} readings"
    );
    // Every reading travels (forward-all), yet packed and compressed they cost far fewer bytes.
    let raw_bytes = stats.raw_bytes.load(std::sync::atomic::Ordering::Relaxed);
    let forwarded_bytes = stats
        .forwarded_bytes
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        forwarded_bytes * 2 < raw_bytes,
        "{forwarded_bytes} bytes forwarded for {raw_bytes} raw"
    );

    gateway.shutdown().await;
    ingest.shutdown().await;
    assert_eq!(count_rows(&pool).await.unwrap(), total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_typed_nats_pub_reading_is_accepted() {
    let Site {
        stack,
        ingest,
        gateway,
        sensor,
        ..
    } = Site::start().await;

    // The README's example, byte for byte:
    // nats pub edgeops.raw.s1.room-101 '{"ts":"2026-11-21T10:00:00Z","metrics":{"co2_ppm":612,"temperature_c":21.5}}'
    let payload = r#"{"ts":"2026-11-21T10:00:00Z","metrics":{"co2_ppm":612,"temperature_c":21.5}}"#;
    sensor
        .publish("edgeops.raw.s1.room-101", payload.into())
        .await
        .unwrap();
    sensor.flush().await.unwrap();

    let pool = stack.pool().await;
    wait_for_rows(&pool, 1, Duration::from_secs(30)).await;
    let (device, co2, temperature): (String, f64, f64) = sqlx::query_as(
        "SELECT device_id, (metrics->>'co2_ppm')::float8, (metrics->>'temperature_c')::float8 FROM ingest.readings",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (device.as_str(), co2, temperature),
        ("room-101", 612.0, 21.5)
    );
    gateway.shutdown().await;
    ingest.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mqtt_sensor_reading_reaches_postgres_like_a_native_one() {
    let Site {
        stack,
        ingest,
        gateway,
        ..
    } = Site::start().await;

    // A real MQTT client, QoS 1, on the documented topic edgeops/raw/<site>/<device>.
    let payload = r#"{"ts":"2026-11-21T09:30:00Z","metrics":{"co2_ppm":734.5,"humidity_pct":41}}"#;
    let port = stack.leaf("s1").mqtt_port.to_string();
    let status = std::process::Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port, "-q", "1", "-i", "sensor-room-7", "-t", "edgeops/raw/s1/room-7", "-m", payload])
        .status()
        .unwrap_or_else(|e| panic!("mosquitto_pub (Debian's mosquitto-clients, installed by bootstrap) could not run: {e}"));
    assert!(status.success(), "mosquitto_pub failed: {status}");

    let pool = stack.pool().await;
    wait_for_rows(&pool, 1, Duration::from_secs(30)).await;
    let (site, device, co2): (String, String, f64) = sqlx::query_as(
        "SELECT site_id, device_id, (metrics->>'co2_ppm')::float8 FROM ingest.readings",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (site.as_str(), device.as_str(), co2),
        ("s1", "room-7", 734.5)
    );
    gateway.shutdown().await;
    ingest.shutdown().await;
}
