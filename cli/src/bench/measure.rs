//! The measurements. Every figure is readings per second, start to finish of one run.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream};
use chrono::{DateTime, TimeZone, Utc};
use edgeops_contracts::{DeviceId, Reading, ReadingLimits, SiteId, streams, subjects};
use edgeops_edge_gateway::GatewayConfig;
use edgeops_ingest::IngestConfig;
use edgeops_ingest::Row;
use futures::future::join_all;
use tokio_util::sync::CancellationToken;

use super::{BenchArgs, Figure, median, rate};
use edgeops_testkit::stack::{LocalStack, register_sites};

/// Outstanding publishes before waiting for their acknowledgements.
const PUBLISH_WINDOW: usize = 5_000;

/// Readings `0..n` of one measurement, spread over `devices`, with timestamps unique to `tag`.
/// Tags up to 99 stay in the past (2012 plus 99 x 30 days is 2020), as ingest requires.
fn readings(tag: u32, n: u64, devices: usize) -> Vec<(String, String)> {
    let base: DateTime<Utc> = Utc
        .with_ymd_and_hms(2012, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
        + chrono::Duration::days(i64::from(tag) * 30);
    (0..n)
        .map(|i| {
            let device = format!("d{:04}", i % devices as u64);
            let ts = base + chrono::Duration::seconds((i / devices as u64) as i64 * 10);
            let payload = format!(
                r#"{{"ts":"{}","metrics":{{"co2_ppm":{},"temperature_c":{}}}}}"#,
                ts.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                400 + i % 900,
                18.0 + (i % 70) as f64 / 10.0
            );
            (device, payload)
        })
        .collect()
}

/// Publishes every reading with JetStream acknowledgements, `PUBLISH_WINDOW` in flight.
/// Each device's raw subject at `site`, built before any clock starts.
fn raw_subjects(
    site: &SiteId,
    readings: &[(String, String)],
) -> anyhow::Result<std::collections::HashMap<String, String>> {
    readings
        .iter()
        .map(|(device, _)| {
            let subject = subjects::raw_reading(site, &DeviceId::parse(device)?);
            Ok((device.clone(), subject))
        })
        .collect()
}

async fn publish_all(
    js: &jetstream::Context,
    subject: impl Fn(&str) -> String,
    readings: &[(String, String)],
) -> anyhow::Result<()> {
    for window in readings.chunks(PUBLISH_WINDOW) {
        let mut acks = Vec::with_capacity(window.len());
        for (device, payload) in window {
            acks.push(js.publish(subject(device), payload.clone().into()).await?);
        }
        for ack in join_all(acks.into_iter().map(std::future::IntoFuture::into_future)).await {
            ack?;
        }
    }
    Ok(())
}

/// ingest's counts of written and refused readings, from its status endpoint (no table scan).
async fn ingest_counts(client: &async_nats::Client) -> anyhow::Result<(u64, u64)> {
    let reply = client
        .request(subjects::service_endpoint("ingest", "status"), "".into())
        .await?;
    let status: serde_json::Value = serde_json::from_slice(&reply.payload)?;
    Ok((
        status["accepted"].as_u64().unwrap_or(0),
        status["rejected"].as_u64().unwrap_or(0),
    ))
}

async fn accepted(client: &async_nats::Client) -> anyhow::Result<u64> {
    Ok(ingest_counts(client).await?.0)
}

/// Waits until ingest has written `target` readings in all; fails at once if it refuses any.
async fn wait_accepted(client: &async_nats::Client, target: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let (written, refused) = ingest_counts(client).await?;
        anyhow::ensure!(
            refused == 0,
            "ingest refused {refused} benchmark readings (see its dead letters)"
        );
        if written >= target {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "readings did not all arrive within 30 minutes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn all(stack: &LocalStack, args: &BenchArgs) -> anyhow::Result<Vec<Figure>> {
    let hub = edgeops_bus::connect(&stack.hub_url, "edgeops-bench").await?;
    let hub_js = jetstream::with_domain(hub.clone(), streams::HUB_DOMAIN);
    let registered = edgeops_contracts::events::SiteRegistered {
        site: stack.site.clone(),
        display_name: "bench".into(),
        tags: vec![],
    };
    register_sites(
        &hub_js,
        [registered],
        &edgeops_contracts::Actor::User("bench".into()),
    )
    .await?;
    hub_js
        .create_stream(stream::Config {
            name: "BENCH_RAW".into(),
            subjects: vec!["bench.raw.>".into()],
            ..Default::default()
        })
        .await?;
    let pool = edgeops_store::connect(&stack.database_url, 4, Duration::from_secs(10)).await?;
    edgeops_store::migrate(&pool).await?;

    let stop = CancellationToken::new();
    let ingest = tokio::spawn(edgeops_ingest::run(
        {
            let mut config = IngestConfig::local(&stack.hub_url, &stack.database_url);
            config.batch_size = args.ingest_batch;
            config.concurrency = args.ingest_workers;
            config
        },
        stop.clone().cancelled_owned(),
    ));
    let mut gateway_config = GatewayConfig::local(stack.site.clone(), &stack.leaf_url);
    gateway_config.batch_size = args.gateway_batch;
    gateway_config.inference = args.inference;
    gateway_config.compress_from_bytes = args.compress_from_bytes;
    let gateway = tokio::spawn(edgeops_edge_gateway::run(
        gateway_config,
        stop.clone().cancelled_owned(),
    ));
    let leaf = edgeops_bus::connect(&stack.leaf_url, "edgeops-bench-sensors").await?;
    let local = jetstream::with_domain(leaf, streams::edge_domain(&stack.site));
    while local.get_stream(streams::LOCAL_READINGS).await.is_err() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let result = measure_runs(stack, args, &hub, &hub_js, &local, &pool).await;
    stop.cancel();
    let _ = gateway.await;
    let _ = ingest.await;
    result
}

async fn measure_runs(
    stack: &LocalStack,
    args: &BenchArgs,
    hub: &async_nats::Client,
    hub_js: &jetstream::Context,
    local: &jetstream::Context,
    pool: &sqlx::PgPool,
) -> anyhow::Result<Vec<Figure>> {
    let (mut publish_runs, mut insert_runs, mut e2e_runs) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..args.runs {
        let tag = run as u32 + 1;
        let data = readings(tag, args.readings, args.devices);

        let started = Instant::now();
        publish_all(hub_js, |device| format!("bench.raw.{device}"), &data).await?;
        publish_runs.push(rate(args.readings, started.elapsed()));

        let rows = rows_for(&data, "bench-raw")?;
        let started = Instant::now();
        for batch in rows.chunks(1000) {
            edgeops_ingest::write_readings(pool, batch).await?;
        }
        insert_runs.push(rate(args.readings, started.elapsed()));
        sqlx::query("DELETE FROM ingest.readings WHERE site_id = 'bench-raw'")
            .execute(pool)
            .await?;

        let before = accepted(hub).await?;
        let started = Instant::now();
        let raw = raw_subjects(&stack.site, &data)?;
        publish_all(local, |device| raw[device].clone(), &data).await?;
        wait_accepted(hub, before + args.readings).await?;
        e2e_runs.push(rate(args.readings, started.elapsed()));
        eprintln!(
            "bench run {}: raw publish {:.0}/s, raw insert {:.0}/s, end to end {:.0}/s",
            run + 1,
            publish_runs[run],
            insert_runs[run],
            e2e_runs[run]
        );
    }
    let drain = backlog_drain(stack, args, hub, local).await?;
    eprintln!(
        "bench backlog: {} readings drained at {drain:.0}/s",
        args.backlog
    );
    let figure = |name, readings, runs: Vec<f64>| Figure {
        name,
        readings,
        median_per_sec: median(runs.clone()),
        runs,
    };
    Ok(vec![
        figure("raw_publish", args.readings, publish_runs),
        figure("raw_insert", args.readings, insert_runs),
        figure("end_to_end", args.readings, e2e_runs),
        figure("backlog_drain", args.backlog, vec![drain]),
    ])
}

fn rows_for(data: &[(String, String)], site: &str) -> anyhow::Result<Vec<Row>> {
    let site = SiteId::parse(site)?;
    data.iter()
        .enumerate()
        .map(|(i, (device, payload))| {
            let subject = subjects::hub_reading(&site, &DeviceId::parse(device)?);
            let reading = Reading::from_message(
                &subject,
                payload.as_bytes(),
                Utc::now(),
                &ReadingLimits::default(),
            )
            .map_err(|r| anyhow::anyhow!("{r}"))?;
            Ok(Row {
                reading,
                hub_sequence: i as u64,
            })
        })
        .collect()
}

/// The hub goes down; the site stores a backlog; from the hub's return, how fast it drains.
async fn backlog_drain(
    stack: &LocalStack,
    args: &BenchArgs,
    hub: &async_nats::Client,
    local: &jetstream::Context,
) -> anyhow::Result<f64> {
    let before = accepted(hub).await?;
    if let Some(process) = stack.hub.lock().await.take() {
        process.stop().await;
    }
    let data = readings(99, args.backlog, args.devices);
    let raw = raw_subjects(&stack.site, &data)?;
    publish_all(local, |device| raw[device].clone(), &data).await?;
    let started = Instant::now();
    let restarted = stack.hub_launcher.start().await?;
    *stack.hub.lock().await = Some(restarted);
    let deadline = Instant::now() + Duration::from_secs(60);
    while accepted(hub).await.is_err() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "ingest did not come back after the hub restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_accepted(hub, before + args.backlog).await?;
    Ok(rate(args.backlog, started.elapsed()))
}
