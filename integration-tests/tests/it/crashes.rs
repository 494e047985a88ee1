//! `kill -9` of ingest and of the edge gateway, each mid-run, then a restart: the hub and
//! Postgres end up exactly right — nothing lost, nothing doubled.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, Utc};
use edgeops_contracts::{Reading, ReadingLimits, streams};
use edgeops_integration_tests::services::spawn_ingest;
use edgeops_integration_tests::{TestStack, check, wait_until};
use tokio::process::{Child, Command};

use crate::ingest_process::binary;
use crate::support::{
    base_time, count_rows, hub_subject, raw_subject, reading_json, wait_for_local_stream,
    wait_for_rows,
};

fn start_ingest(stack: &TestStack) -> Child {
    Command::new(binary("edgeops-ingest"))
        .env("EDGEOPS_NATS_URL", &stack.hub_url)
        .env("EDGEOPS_DATABASE_URL", &stack.database_url)
        .env("EDGEOPS_INGEST_BATCH_SIZE", "250")
        .env("EDGEOPS_INGEST_ACK_WAIT_SECS", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

fn start_gateway(stack: &TestStack, site: &str) -> Child {
    Command::new(binary("edgeops-edge-gateway"))
        .env("EDGEOPS_SITE", site)
        .env("EDGEOPS_LEAF_URL", &stack.leaf(site).url)
        .env("EDGEOPS_REDUCTION_POLICY", "forward-all")
        .env("EDGEOPS_FORWARD_BATCH", "200")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Waits until Postgres holds more than `at_least` rows (so the kill lands mid-run).
async fn wait_past(pool: &sqlx::PgPool, at_least: i64) {
    wait_until(
        &format!("more than {at_least} rows"),
        Duration::from_secs(60),
        || async {
            let rows = count_rows(pool).await.unwrap_or(0);
            check(rows > at_least, format!("{rows} rows"))
        },
    )
    .await;
}

async fn stored_keys(pool: &sqlx::PgPool) -> BTreeSet<(String, DateTime<Utc>)> {
    let rows: Vec<(String, DateTime<Utc>)> =
        sqlx::query_as("SELECT device_id, observed_at FROM ingest.readings")
            .fetch_all(pool)
            .await
            .unwrap();
    rows.into_iter().collect()
}

fn expected_keys(devices: usize, per_device: i64) -> BTreeSet<(String, DateTime<Utc>)> {
    (0..per_device)
        .flat_map(|n| {
            (0..devices).map(move |d| {
                (
                    format!("d{d}"),
                    base_time() + chrono::Duration::seconds(n * 10),
                )
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_killed_mid_run_loses_and_doubles_nothing() {
    let stack = TestStack::start(&[]).await;
    stack.register_sites(&["s1"]).await;
    let js = stack.hub_js().await;
    let (devices, per_device) = (10, 3_000);
    let total = (devices as i64) * per_device;
    for n in 0..per_device {
        for d in 0..devices {
            let ack = js
                .publish(hub_subject("s1", &format!("d{d}")), reading_json(n).into())
                .await
                .unwrap();
            if n % 100 == 99 && d == 0 {
                ack.await.unwrap();
            }
        }
    }
    let pool = stack.pool().await;
    let mut first = start_ingest(&stack);
    wait_past(&pool, total / 5).await;
    first.start_kill().unwrap(); // SIGKILL: no drain, batches in hand are lost mid-way
    first.wait().await.unwrap();
    let after_kill = count_rows(&pool).await.unwrap();
    assert!(
        after_kill < total,
        "the kill landed mid-run ({after_kill} of {total})"
    );

    let mut second = start_ingest(&stack);
    wait_for_rows(&pool, total, Duration::from_secs(120)).await;
    assert_eq!(stored_keys(&pool).await, expected_keys(devices, per_device));
    second.start_kill().unwrap();
    second.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_killed_mid_backlog_resumes_where_it_stopped() {
    let stack = TestStack::start(&["s1"]).await;
    stack.register_sites(&["s1"]).await;
    let ingest = spawn_ingest(&stack);
    // A first gateway only creates the site's stream; with it gone, readings pile up.
    let mut creator = start_gateway(&stack, "s1");
    let sensors = stack.leaf_client("s1").await;
    wait_for_local_stream(&sensors, "s1").await;
    creator.start_kill().unwrap();
    creator.wait().await.unwrap();
    let local = async_nats::jetstream::with_domain(sensors, "edge-s1");
    let (devices, per_device) = (10, 3_000);
    let total = (devices as i64) * per_device;
    for n in 0..per_device {
        let mut acks = Vec::with_capacity(devices);
        for d in 0..devices {
            acks.push(
                local
                    .publish(raw_subject("s1", &format!("d{d}")), reading_json(n).into())
                    .await
                    .unwrap(),
            );
        }
        for ack in acks {
            ack.await.unwrap();
        }
    }

    let pool = stack.pool().await;
    let mut first = start_gateway(&stack, "s1");
    wait_past(&pool, total / 5).await;
    first.start_kill().unwrap(); // SIGKILL mid-backlog: a batch may be on the hub, its cursor not saved
    first.wait().await.unwrap();
    let after_kill = count_rows(&pool).await.unwrap();
    assert!(
        after_kill < total,
        "the kill landed mid-backlog ({after_kill} of {total})"
    );

    let mut second = start_gateway(&stack, "s1");
    wait_for_rows(&pool, total, Duration::from_secs(120)).await;
    assert_eq!(stored_keys(&pool).await, expected_keys(devices, per_device));
    // The restarted gateway resumed after what the hub had: no reading stored twice there.
    let on_hub: usize = stack
        .hub_messages(streams::HUB_READINGS)
        .await
        .iter()
        .map(|(subject, payload)| {
            Reading::all_from_message(subject, payload, Utc::now(), &ReadingLimits::default())
                .into_iter()
                .filter(Result::is_ok)
                .count()
        })
        .sum();
    assert_eq!(on_hub, total as usize);
    second.start_kill().unwrap();
    second.wait().await.unwrap();
    ingest.shutdown().await;
}
