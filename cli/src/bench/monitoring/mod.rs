//! `edgeops bench monitoring`: how many judged forecasts per second monitoring keeps up with,
//! where judging happens (see "Monitoring" in docs/benchmarks.md):
//!
//! - `hub_raw_consume` (baseline): an ordered consume of the run's summaries from the hub's
//!   `SUMMARIES` stream, every message read, nothing done;
//! - `hub_monitoring`: the monitoring service, in-process, storing and judging the same
//!   summaries until its durable consumer has acknowledged them all;
//! - `edge_plain_pass` and `edge_decode` (baselines): the gateway's local backlog of readings
//!   and forecasts read once, and decoded from JSON;
//! - `edge_summarizer`: the summarizer's core pairing every forecast with its actual, per
//!   device and window, over the same backlog (in memory; see `edge.rs`).
//!
//! Each figure is the median over `--runs`; printed as one JSON object per line.

mod edge;
mod hub;

use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use chrono::{DateTime, Utc};
use edgeops_contracts::{SiteId, streams};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::median;

/// The benchmark's model name.
const MODEL: &str = "co2-room";
/// 5-minute bins in an hour's window: a device's judged forecasts per window and model, and
/// the model's horizon.
const BINS_PER_WINDOW: u32 = 12;
/// Feature windows per hub summary.
const FEATURES: usize = 8;

#[derive(Debug, Clone, clap::Args)]
pub struct MonitoringBenchArgs {
    /// Devices reporting.
    #[arg(long, default_value_t = 100)]
    pub devices: usize,
    /// Hours of window summaries per device at the hub (one summary per device and hour).
    #[arg(long, default_value_t = 48)]
    pub hours: u32,
    /// Hours of readings and forecasts per device in the edge backlog.
    #[arg(long, default_value_t = 48)]
    pub edge_hours: u32,
    /// Repetitions of each measurement (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Summaries carry the serving model's 8 inputs on the training reference, judged for
    /// input drift against a manifest the bench serves in the registry's place.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub features: bool,
    /// Measure only the edge (no servers started).
    #[arg(long)]
    pub edge_only: bool,
}

#[derive(Debug, Serialize)]
pub struct Figure {
    pub name: &'static str,
    /// What one item is: `summaries` or `messages` (readings and forecasts).
    pub unit: &'static str,
    pub items: u64,
    /// Judged forecasts the items carry (0 for a baseline that judges nothing).
    pub judged: u64,
    pub runs: Vec<f64>,
    pub median_per_sec: f64,
    pub median_judged_per_sec: f64,
}

fn figure(name: &'static str, unit: &'static str, items: u64, judged: u64, secs: &[f64]) -> Figure {
    let runs: Vec<f64> = secs.iter().map(|s| items as f64 / s.max(1e-9)).collect();
    let median_per_sec = median(runs.clone());
    Figure {
        name,
        unit,
        items,
        judged,
        median_judged_per_sec: median_per_sec * judged as f64 / items.max(1) as f64,
        runs,
        median_per_sec,
    }
}

/// The start (unix seconds) of run `run`'s data: 2025-01-01 plus 30 days a run, whole hours.
fn start_of_data(run: u32) -> i64 {
    1_735_689_600 + i64::from(run) * 30 * 86_400
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

pub async fn run(
    args: MonitoringBenchArgs,
    interrupted: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut figures = edge_figures(&args)?;
    if !args.edge_only {
        let stack = super::start_stack().await?;
        let outcome = tokio::select! {
            outcome = hub_figures(&stack, &args) => outcome,
            () = interrupted => Err(anyhow::anyhow!("interrupted")),
        };
        stack.stop(false).await;
        figures.extend(outcome?);
    }
    for figure in &figures {
        println!("{}", serde_json::to_string(figure)?);
    }
    let get = |name: &str| {
        figures
            .iter()
            .find(|f| f.name == name)
            .map_or(0.0, |f| f.median_per_sec)
    };
    let ratios = serde_json::json!({
        "hub_monitoring_vs_raw_consume": get("hub_monitoring") / get("hub_raw_consume"),
        "edge_summarizer_vs_plain_pass": get("edge_summarizer") / get("edge_plain_pass"),
        "edge_summarizer_vs_decode": get("edge_summarizer") / get("edge_decode"),
        "peak_rss_mb": peak_rss_mb(),
    });
    println!("{ratios}");
    Ok(())
}

fn edge_figures(args: &MonitoringBenchArgs) -> anyhow::Result<Vec<Figure>> {
    let site = SiteId::parse("bench")?;
    let rss_before = rss_mb();
    let backlog = edge::backlog(&site, args.devices, args.edge_hours)?;
    let data_mb = rss_mb() - rss_before;
    let (mut plain, mut decode, mut summarize) = (Vec::new(), Vec::new(), Vec::new());
    let (mut summaries, mut judged, mut state_mb) = (0, 0, 0.0_f64);
    for run in 0..args.runs {
        plain.push(edge::plain_pass(&backlog));
        decode.push(edge::decode_pass(&backlog)?);
        let pass = edge::summarize(&backlog);
        (summaries, judged) = (pass.summaries, pass.judged);
        state_mb = state_mb.max(pass.state_mb);
        summarize.push(pass.seconds);
        eprintln!(
            "bench edge run {}: {} messages; plain {:.0}/s, decode {:.0}/s, summarizer {:.0}/s \
             ({summaries} summaries, {judged} judged forecasts: {:.0} judged/s)",
            run + 1,
            backlog.messages(),
            backlog.messages() as f64 / plain[run],
            backlog.messages() as f64 / decode[run],
            backlog.messages() as f64 / pass.seconds,
            judged as f64 / pass.seconds,
        );
    }
    eprintln!(
        "bench edge: {summaries} summaries; the backlog's decoded values take {data_mb:.0} MB \
         resident; the summarizer's state grew the process by {state_mb:.1} MB at most ({:.1} KB a device)",
        state_mb * 1024.0 / args.devices.max(1) as f64
    );
    let n = backlog.messages();
    Ok(vec![
        figure("edge_plain_pass", "messages", n, 0, &plain),
        figure("edge_decode", "messages", n, 0, &decode),
        figure("edge_summarizer", "messages", n, judged, &summarize),
    ])
}

async fn hub_figures(
    stack: &edgeops_testkit::stack::LocalStack,
    args: &MonitoringBenchArgs,
) -> anyhow::Result<Vec<Figure>> {
    let hub = edgeops_bus::connect(&stack.hub_url, "edgeops-bench").await?;
    let js = jetstream::with_domain(hub.clone(), streams::HUB_DOMAIN);
    edgeops_bus::provision(
        &js,
        &edgeops_bus::topology::hub_topology(&Default::default()),
    )
    .await?;
    let stream = hub::summaries_stream(&js).await?;
    let stop = CancellationToken::new();
    let registry = tokio::spawn(hub::serve_manifest(hub.clone(), stop.clone()));
    let pool = edgeops_store::connect(&stack.database_url, 2, Duration::from_secs(10)).await?;
    let result = hub_runs(stack, args, &js, &stream, &pool).await;
    stop.cancel();
    let _ = registry.await;
    result
}

async fn hub_runs(
    stack: &edgeops_testkit::stack::LocalStack,
    args: &MonitoringBenchArgs,
    js: &jetstream::Context,
    stream: &jetstream::stream::Stream,
    pool: &sqlx::PgPool,
) -> anyhow::Result<Vec<Figure>> {
    let (mut raw, mut drained) = (Vec::new(), Vec::new());
    let mut judged = 0;
    let n = (args.devices * args.hours as usize) as u64;
    for run in 0..args.runs {
        // A site per run, so one run's windows are not the next one's history.
        let site = SiteId::parse(format!("bench-mon-{}", run + 1))?;
        edgeops_bus::sites::register_site(
            js,
            edgeops_contracts::events::SiteRegistered {
                site: site.clone(),
                display_name: "bench".into(),
                tags: vec![],
            },
            edgeops_contracts::Actor::User("bench".into()),
        )
        .await?;
        let all = hub::summaries(
            &site,
            run as u32 + 1,
            args.devices,
            args.hours,
            args.features,
        )?;
        judged = all
            .iter()
            .flat_map(|s| &s.models)
            .map(|m| m.error.judged)
            .sum();
        let first = hub::publish(js, &all).await?;
        raw.push(hub::raw_consume(stream, first, n).await?);
        drained.push(hub::drain(stream, &stack.hub_url, &stack.database_url, n).await?);
        let stored: i64 =
            sqlx::query_scalar("SELECT count(*) FROM monitoring.windows WHERE site_id = $1")
                .bind(site.as_str())
                .fetch_one(pool)
                .await
                .context("counting the stored windows")?;
        anyhow::ensure!(
            stored as u64 == n,
            "monitoring stored {stored} of the run's {n} summaries (see its dead letters)"
        );
        eprintln!(
            "bench hub run {}: {n} summaries; raw consume {:.0}/s, monitoring {:.0}/s \
             ({:.0} judged forecasts/s)",
            run + 1,
            n as f64 / raw[run],
            n as f64 / drained[run],
            judged as f64 / drained[run],
        );
    }
    Ok(vec![
        figure("hub_raw_consume", "summaries", n, 0, &raw),
        figure("hub_monitoring", "summaries", n, judged, &drained),
    ])
}

/// This process's resident memory now (Linux; 0 elsewhere).
fn rss_mb() -> f64 {
    status_kb("VmRSS:") / 1024.0
}

/// This process's peak resident memory (Linux; 0 elsewhere).
fn peak_rss_mb() -> f64 {
    status_kb("VmHWM:") / 1024.0
}

fn status_kb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse().ok())
        })
        .unwrap_or(0.0)
}
