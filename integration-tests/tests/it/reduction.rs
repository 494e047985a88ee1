//! With a reducing policy, the hub and Postgres hold exactly what the policy selected, and a
//! local-only field is absent everywhere off-site.

use std::collections::BTreeSet;
use std::time::Duration;

use edgeops_contracts::streams;
use edgeops_edge_gateway::reduction::ReductionPolicy;
use edgeops_integration_tests::TestStack;
use edgeops_integration_tests::services::{spawn_gateway_with_policy, spawn_ingest};
use edgeops_testkit::simulator::Room;

use crate::support::{
    base_time, raw_subject, selected_by_policy, stored_rows, wait_for_local_stream,
    wait_for_rows_and_aggregates,
};

const ROOMS: usize = 6;
const PER_ROOM: i64 = 400;

/// Simulated rooms, one reading a minute, with an occupancy count that must stay on site.
fn raw_readings() -> Vec<(String, String)> {
    let mut rooms: Vec<Room> = (0..ROOMS)
        .map(|i| Room::new(format!("room-{i}"), i as u64 + 1))
        .collect();
    let mut out = Vec::new();
    for minute in 0..PER_ROOM {
        for (i, room) in rooms.iter_mut().enumerate() {
            let at = base_time() + chrono::Duration::minutes(minute);
            let mut payload: serde_json::Value =
                serde_json::from_str(&room.step(at, 60.0)).unwrap();
            payload["metrics"]["occupancy_count"] = serde_json::json!((minute / 30 + i as i64) % 7);
            out.push((raw_subject("s1", &format!("room-{i}")), payload.to_string()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_and_postgres_hold_exactly_what_the_policy_selected() {
    let mut policy = ReductionPolicy::fleet_default();
    policy.local_only.insert("occupancy_count".into());
    let policy_file =
        std::env::temp_dir().join(format!("edgeops-policy-{}.json", uuid::Uuid::now_v7()));
    std::fs::write(&policy_file, serde_json::to_string(&policy).unwrap()).unwrap();

    let stack = TestStack::start(&["s1"]).await;
    stack.register_sites(&["s1"]).await;
    let ingest = spawn_ingest(&stack);
    let (gateway, stats) = spawn_gateway_with_policy(&stack, "s1", policy_file.to_str().unwrap());
    let sensor = stack.leaf_client("s1").await;
    wait_for_local_stream(&sensor, "s1").await;
    let raw = raw_readings();
    for (subject, payload) in &raw {
        sensor
            .publish(subject.clone(), payload.clone().into())
            .await
            .unwrap();
    }
    sensor.flush().await.unwrap();

    // What the policy selects, computed by the same planner over the same local sequence.
    let (expected_readings, expected_aggregates) = selected_by_policy(&policy, "s1", &raw);
    assert!(
        expected_readings.len() < raw.len() / 2,
        "the policy reduces: {} of {}",
        expected_readings.len(),
        raw.len()
    );
    assert!(expected_aggregates > 0);

    let pool = stack.pool().await;
    wait_for_rows_and_aggregates(
        &pool,
        expected_readings.len(),
        expected_aggregates,
        Duration::from_secs(60),
    )
    .await;
    gateway.shutdown().await;
    ingest.shutdown().await;

    let stored = stored_rows(&pool).await;
    assert_eq!(
        stored, expected_readings,
        "exactly the selected readings, with exactly the selected metrics"
    );

    // The local-only field is nowhere off-site: not in any hub stream, not in Postgres.
    for stream in [streams::HUB_READINGS, streams::HUB_AGGREGATES] {
        for (subject, payload) in stack.hub_messages(stream).await {
            let text = edgeops_contracts::compression::decompressed(&payload, 1 << 20).unwrap();
            assert!(
                !String::from_utf8_lossy(&text).contains("occupancy_count"),
                "{subject} carries a local-only field"
            );
        }
    }
    let leaked: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM ingest.readings WHERE metrics ? 'occupancy_count')
              + (SELECT count(*) FROM ingest.aggregates WHERE metric = 'occupancy_count')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(leaked, 0);
    let metrics: Vec<String> = sqlx::query_scalar("SELECT DISTINCT metric FROM ingest.aggregates")
        .fetch_all(&pool)
        .await
        .unwrap();
    let metrics: BTreeSet<String> = metrics.into_iter().collect();
    assert_eq!(
        metrics,
        BTreeSet::from([
            "co2_ppm".into(),
            "humidity_pct".into(),
            "temperature_c".into()
        ])
    );
    let ratio = stats.byte_ratio();
    eprintln!(
        "forwarded/raw bytes: {ratio:.3} ({} raw readings -> {} readings, {expected_aggregates} aggregates)",
        raw.len(),
        expected_readings.len()
    );
    assert!(ratio > 0.0 && ratio < 0.5, "{ratio}");
    let _ = std::fs::remove_file(policy_file);
}
