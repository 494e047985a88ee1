//! What the demo prints: progress while readings flow, and a summary at the end.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use edgeops_contracts::{SiteId, streams, subjects};
use edgeops_edge_gateway::forward::ForwarderStats;
use futures::TryStreamExt;
use tokio_util::sync::CancellationToken;

pub fn step(message: &str) {
    println!("==> {message}");
}

async fn rows(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM ingest.readings")
        .fetch_one(pool)
        .await
        .unwrap_or(0)
}

/// One line a second: stored at the site, forwarded, in Postgres, byte ratio.
pub async fn print_progress(
    pool: sqlx::PgPool,
    gateway: Arc<ForwarderStats>,
    leaf_url: String,
    site: SiteId,
    started: Instant,
    stop: CancellationToken,
) {
    let local = match edgeops_bus::connect(&leaf_url, "demo-progress").await {
        Ok(client) => async_nats::jetstream::with_domain(client, streams::edge_domain(&site)),
        Err(_) => return,
    };
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = stop.cancelled() => return,
        }
        let stored = match local.get_stream(streams::LOCAL_READINGS).await {
            Ok(mut stream) => stream.info().await.map(|i| i.state.messages).unwrap_or(0),
            Err(_) => 0,
        };
        println!(
            "    t={:>5.1}s  stored at site {:>7}  forwarded readings {:>7}  rows in Postgres {:>7}  bytes forwarded/raw {:>5.1}%",
            started.elapsed().as_secs_f64(),
            stored,
            gateway.forwarded_readings.load(Ordering::Relaxed),
            rows(&pool).await,
            gateway.byte_ratio() * 100.0,
        );
    }
}

/// Waits until the gateway has processed `raw` readings and Postgres holds every reading it
/// forwarded (minus the `malformed` ones ingest refuses). Fails after 60 s without progress.
pub async fn wait_for_all(
    pool: &sqlx::PgPool,
    gateway: &ForwarderStats,
    raw: u64,
    malformed: u64,
) -> anyhow::Result<i64> {
    let mut last = (0, -1);
    let mut last_change = Instant::now();
    loop {
        let processed = gateway.raw.load(Ordering::Relaxed);
        let expected = gateway
            .forwarded_readings
            .load(Ordering::Relaxed)
            .saturating_sub(malformed) as i64;
        let now_rows = rows(pool).await;
        if processed >= raw && now_rows == expected {
            return Ok(now_rows);
        }
        if (processed, now_rows) != last {
            last = (processed, now_rows);
            last_change = Instant::now();
        } else if last_change.elapsed() > Duration::from_secs(60) {
            anyhow::bail!(
                "no progress for 60 s: gateway processed {processed}/{raw}, {now_rows}/{expected} rows"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub struct Summary {
    pub published: u64,
    pub malformed: u64,
    pub rows: i64,
    pub elapsed: Duration,
    pub gateway: Arc<ForwarderStats>,
    pub pool: sqlx::PgPool,
}

pub async fn summary(
    s: &Summary,
    hub: &async_nats::jetstream::Context,
    ingest_status: Option<serde_json::Value>,
) -> anyhow::Result<()> {
    let g = &s.gateway;
    let forwarded = g.forwarded_readings.load(Ordering::Relaxed);
    let hub_messages = g.forwarded.load(Ordering::Relaxed);
    step("summary");
    println!(
        "    published at the site      {} readings (+{} malformed)",
        s.published, s.malformed
    );
    println!(
        "    forwarded to the hub       {forwarded} readings and the window aggregates, in {hub_messages} hub messages (packed per device)"
    );
    println!(
        "    bytes raw -> forwarded     {} -> {} ({:.1}%; the reduction policy decides what travels)",
        g.raw_bytes.load(Ordering::Relaxed),
        g.forwarded_bytes.load(Ordering::Relaxed),
        g.byte_ratio() * 100.0
    );
    let (distinct,): (i64,) = sqlx::query_as(
        "SELECT count(DISTINCT (site_id, device_id, observed_at)) FROM ingest.readings",
    )
    .fetch_one(&s.pool)
    .await?;
    let exact = s.rows == (forwarded - s.malformed) as i64 && distinct == s.rows;
    println!(
        "    rows in Postgres           {} (every forwarded reading exactly once: {})",
        s.rows,
        if exact { "yes" } else { "NO" }
    );
    let aggregate_rows: i64 = sqlx::query_scalar("SELECT count(*) FROM ingest.aggregates")
        .fetch_one(&s.pool)
        .await?;
    println!(
        "    aggregate rows             {aggregate_rows} (hourly min/max/mean/count per room and metric)"
    );
    let (feature_rows, devices): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT device_id) FROM preprocessing.features")
            .fetch_one(&s.pool)
            .await?;
    println!(
        "    feature rows               {feature_rows} for {devices} rooms (5-minute bins, shared feature code)"
    );
    println!(
        "    failed forward attempts    {} (during the outage; resumed from the cursor)",
        g.failed_batches.load(Ordering::Relaxed)
    );
    println!(
        "    elapsed                    {:.1}s",
        s.elapsed.as_secs_f64()
    );
    let per_device: Vec<(String, i64, f64)> = sqlx::query_as(
        "SELECT device_id, count(*), round(max((metrics->>'co2_ppm')::float8)::numeric, 0)::float8
         FROM ingest.readings GROUP BY device_id ORDER BY device_id LIMIT 4",
    )
    .fetch_all(&s.pool)
    .await?;
    for (device, count, co2) in per_device {
        println!("      {device}: {count} readings in Postgres, peak CO2 {co2} ppm");
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
    if !exact {
        anyhow::bail!("Postgres does not hold every forwarded reading exactly once");
    }
    Ok(())
}

/// The byte ratio as docs/architecture.md defines it: what the site sent over its leaf
/// connection (everything: readings, aggregates, forecasts, API requests), from the leaf server's
/// own counters, per raw byte published at the site.
pub async fn leaf_link(monitor_url: &str, gateway: &ForwarderStats) {
    let raw = gateway.raw_bytes.load(Ordering::Relaxed);
    match edgeops_testkit::leaf_link::leaf_link_bytes(monitor_url).await {
        Ok(link) => {
            step("the uplink, from the leaf server's counters (/leafz)");
            println!(
                "    site -> hub                {} bytes in {} messages = {:.1}% of the {raw} raw bytes published (readings, aggregates, the models' forecasts, one per room and bin, API requests: everything)",
                link.to_hub,
                link.to_hub_msgs,
                link.ratio_to(raw) * 100.0
            );
            println!(
                "    hub -> site                {} bytes in {} messages (models, desired state, acknowledgements)",
                link.from_hub, link.from_hub_msgs
            );
        }
        Err(err) => step(&format!(
            "could not read the leaf's counters at {monitor_url}: {err:#}"
        )),
    }
}

/// What monitoring saw of the live phase: each model version's live skill vs persistence
/// (from the gateway's window summaries) and any incident. Waits up to 30 s for the first
/// judged window to reach monitoring.
pub async fn monitoring(hub_url: &str) {
    use edgeops_monitoring_api::{MonitoringClient, StatusRequest};
    let Ok(client) = edgeops_bus::connect(hub_url, "edgeops-demo-monitor").await else {
        return;
    };
    let client = MonitoringClient::new(client);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = client.status(&StatusRequest::default()).await;
        let judged = status.as_ref().is_ok_and(|s| {
            s.versions
                .iter()
                .any(|v| v.windows.iter().any(|w| w.judged > 0))
        });
        if judged || Instant::now() > deadline {
            step(
                "monitoring: live skill vs persistence per model version, from the gateway's hourly summaries",
            );
            match status {
                Ok(status) => print!("{}", crate::commands::monitor::output::status(&status)),
                Err(err) => println!("    monitoring did not answer: {err}"),
            }
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
