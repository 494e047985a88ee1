//! What the demo prints: progress while readings flow, and a summary at the end.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use edgeops_contracts::{streams, subjects};
use edgeops_edge_gateway::forward::ForwarderStats;
use futures::TryStreamExt;

pub fn step(message: &str) {
    println!("==> {message}");
}

async fn rows(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM ingest.readings")
        .fetch_one(pool)
        .await
        .unwrap_or(0)
}

/// Prints a line a second until `expected` rows are in Postgres (or 60 s pass without progress).
pub async fn watch_progress(
    pool: &sqlx::PgPool,
    gateway: &ForwarderStats,
    expected: u64,
    started: Instant,
) -> anyhow::Result<i64> {
    let mut last_change = Instant::now();
    let mut last_rows = -1;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now_rows = rows(pool).await;
        println!(
            "    t={:>4.1}s  forwarded by gateway {:>7}  rows in Postgres {:>7} / {expected}",
            started.elapsed().as_secs_f64(),
            gateway.forwarded.load(Ordering::Relaxed),
            now_rows
        );
        if now_rows >= expected as i64 {
            return Ok(now_rows);
        }
        if now_rows != last_rows {
            last_rows = now_rows;
            last_change = Instant::now();
        } else if last_change.elapsed() > Duration::from_secs(60) {
            anyhow::bail!("no progress for 60 s at {now_rows} rows");
        }
    }
}

pub async fn summary(
    pool: &sqlx::PgPool,
    hub: &async_nats::jetstream::Context,
    published: u64,
    rows: i64,
    gateway: &ForwarderStats,
    elapsed: Duration,
    ingest_status: Option<serde_json::Value>,
) -> anyhow::Result<()> {
    step("summary");
    println!("    published at the site   {published}");
    println!(
        "    forwarded to the hub    {} ({} bytes)",
        gateway.forwarded.load(Ordering::Relaxed),
        gateway.forwarded_bytes.load(Ordering::Relaxed)
    );
    println!(
        "    rows in Postgres        {rows}  (exactly once: {})",
        if rows == published as i64 {
            "yes"
        } else {
            "NO"
        }
    );
    println!("    elapsed                 {:.1}s", elapsed.as_secs_f64());
    let per_device: Vec<(String, i64, f64)> = sqlx::query_as(
        "SELECT device_id, count(*), round(avg((metrics->>'co2_ppm')::float8)::numeric, 0)::float8
         FROM ingest.readings GROUP BY device_id ORDER BY device_id LIMIT 5",
    )
    .fetch_all(pool)
    .await?;
    for (device, count, co2) in per_device {
        println!("      {device}: {count} readings, mean CO2 {co2} ppm");
    }
    let dead = hub.get_stream(streams::DEAD_LETTERS).await?;
    let mut by_subject = dead
        .info_with_subjects(subjects::all_dead_letters())
        .await?;
    println!("    dead letters (malformed readings, kept with their reason):");
    while let Some((subject, count)) = by_subject.try_next().await? {
        println!("      {subject}: {count}");
    }
    if let Some(status) = ingest_status {
        println!("    ingest status (edgeops.svc.ingest.status): {status}");
    }
    Ok(())
}
