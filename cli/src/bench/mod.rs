//! `edgeops bench`: the throughput figures of the edge data path, each side by side with its
//! baselines in the same run, on the same servers (see docs/benchmarks.md for the method).
//!
//! - `raw_publish`: JetStream async publish of the readings into a scratch stream on the hub;
//! - `raw_insert`: the same readings as batched UNNEST inserts into a copy of `ingest.readings`;
//! - `end_to_end`: published at the site's leaf → gateway → hub → ingest → committed rows;
//! - `backlog_drain`: a backlog built while the hub is down, from the hub's return until every
//!   reading is a committed row.
//!
//! Each figure is the median over `--runs`; the result is printed as one JSON object per line.
//! `edgeops bench monitoring` measures monitoring's judging instead ([`monitoring`]).

mod measure;
pub mod monitoring;
pub mod training;

use std::time::Duration;

use edgeops_contracts::SiteId;
use edgeops_testkit::stack::{INGEST_SETTINGS, LocalStack, StackOptions};
use serde::Serialize;

#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: Option<BenchCommand>,
    /// Readings per throughput measurement.
    #[arg(long, default_value_t = 100_000)]
    pub readings: u64,
    /// Readings in the outage backlog.
    #[arg(long, default_value_t = 500_000)]
    pub backlog: u64,
    /// Repetitions of each measurement (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Devices the readings are spread over.
    #[arg(long, default_value_t = 100)]
    pub devices: usize,
    /// Readings per gateway forward batch (the gateway's own default unless given).
    #[arg(long, default_value_t = edgeops_edge_gateway::config::DEFAULT_FORWARD_BATCH)]
    pub gateway_batch: usize,
    /// Readings per ingest batch (one INSERT each).
    #[arg(long, default_value_t = 1000)]
    pub ingest_batch: usize,
    /// Ingest workers (batches written concurrently).
    #[arg(long, default_value_t = 2)]
    pub ingest_workers: usize,
    /// Run the gateway's inference too (a persistence forecast per reading, kept at the site;
    /// with no model loaded, none goes to the hub); `false` measures the data path alone.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub inference: bool,
    /// Packs of at least this many bytes travel compressed (the gateway's
    /// `--compress-from-bytes`; 0 never compresses).
    #[arg(long, default_value_t = edgeops_edge_gateway::config::DEFAULT_COMPRESS_FROM_BYTES)]
    pub compress_from_bytes: usize,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum BenchCommand {
    /// Monitoring's throughput in judged forecasts/s: the hub's monitoring service beside a
    /// raw consume of the same summaries, and the gateway's summarizer beside a plain pass over
    /// the same readings and forecasts.
    Monitoring(monitoring::MonitoringBenchArgs),
}

#[derive(Debug, Serialize)]
pub struct Figure {
    pub name: &'static str,
    pub readings: u64,
    pub runs: Vec<f64>,
    pub median_per_sec: f64,
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn rate(readings: u64, elapsed: Duration) -> f64 {
    readings as f64 / elapsed.as_secs_f64().max(1e-9)
}

pub async fn run(
    args: BenchArgs,
    interrupted: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    if let Some(BenchCommand::Monitoring(args)) = args.command {
        return monitoring::run(args, interrupted).await;
    }
    let stack = start_stack().await?;
    let outcome = tokio::select! {
        outcome = measure::all(&stack, &args) => outcome,
        () = interrupted => Err(anyhow::anyhow!("interrupted")),
    };
    stack.stop(false).await;
    let figures = outcome?;
    for figure in &figures {
        println!("{}", serde_json::to_string(figure)?);
    }
    let get = |name: &str| {
        figures
            .iter()
            .find(|f| f.name == name)
            .map_or(0.0, |f| f.median_per_sec)
    };
    let slower_baseline = get("raw_publish").min(get("raw_insert"));
    let ratios = serde_json::json!({
        "end_to_end_vs_slower_baseline": get("end_to_end") / slower_baseline,
        "backlog_drain_vs_slower_baseline": get("backlog_drain") / slower_baseline,
    });
    println!("{ratios}");
    Ok(())
}

/// The benchmark's servers: hub and one site's leaf nats-server, and Postgres with its default
/// durability (fsync on): figures are for a configuration one would run.
async fn start_stack() -> anyhow::Result<LocalStack> {
    let stack = LocalStack::start(StackOptions {
        site: SiteId::parse("bench")?,
        dir: std::env::temp_dir().join(format!("edgeops-bench-{}", uuid::Uuid::now_v7().simple())),
        max_file_store: "40GB".into(),
        postgres_name: format!("edgeops-bench-pg-{}", std::process::id()),
        postgres_settings: INGEST_SETTINGS.to_vec(),
        database: "edgeops".into(),
    })
    .await?;
    let settings: Vec<&str> = INGEST_SETTINGS
        .iter()
        .copied()
        .filter(|arg| *arg != "-c")
        .collect();
    eprintln!(
        "bench: hub 127.0.0.1:{}, leaf 127.0.0.1:{}, Postgres 127.0.0.1:{} (fsync on, {})",
        stack.hub_port,
        stack.leaf_port,
        stack.postgres.port,
        settings.join(", ")
    );
    Ok(stack)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_runs() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!((rate(50_000, Duration::from_millis(500)) - 100_000.0).abs() < 1e-6);
    }
}
