//! `edgeops replay`: publish a shipped data set at a site's leaf, as the site's sensors would;
//! or, with `--dry-run`, publish nothing and measure what the site's reduction policy would
//! send to the hub (the forwarded/raw byte ratio on real data).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use edgeops_contracts::SiteId;
use edgeops_edge_gateway::config::DEFAULT_FORWARD_BATCH;
use edgeops_edge_gateway::reduction::ReductionPolicy;
use serde::Serialize;

use edgeops_testkit::replay::{ByteReport, Dataset, Replay, RowStats, measure};

const PROGRESS_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, clap::Args)]
pub struct ReplayArgs {
    /// Data set to replay (the copies in `data/`, built into this binary).
    #[arg(long, value_enum)]
    pub dataset: Dataset,
    /// Read this CSV instead of the built-in copy (same columns as the data set).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Site the readings belong to; it must be the leaf's site, whose stream captures only
    /// `edgeops.raw.<site>.>` [default: beijing or birmingham].
    #[arg(long, env = "EDGEOPS_SITE")]
    pub site: Option<String>,
    /// NATS URL of the site's leaf server.
    #[arg(
        long,
        env = "EDGEOPS_LEAF_URL",
        default_value = "nats://127.0.0.1:4223"
    )]
    pub leaf_url: String,
    /// Readings per second (0 = as fast as possible).
    #[arg(long, default_value_t = 500)]
    pub rate: u32,
    /// Stop after this many readings (default: the whole data set).
    #[arg(long)]
    pub limit: Option<u64>,
    /// Publish nothing: run the readings through the reduction policy and print what the
    /// gateway would send to the hub.
    #[arg(long)]
    pub dry_run: bool,
    /// Reduction policy for `--dry-run`: `default`, `forward-all`, or a JSON policy file (the
    /// gateway's `--policy` values).
    #[arg(long, default_value = "default", requires = "dry_run")]
    pub policy: String,
    /// With `--dry-run`: raw readings per forwarder batch, whose selected readings are packed
    /// per device. 1 models a live site whose readings trickle in (one reading per hub
    /// message); the default is the gateway's batch, reached when readings queue up.
    #[arg(long, default_value_t = DEFAULT_FORWARD_BATCH, requires = "dry_run")]
    pub forward_batch: usize,
    /// With `--dry-run`, print the result as one JSON line.
    #[arg(long, requires = "dry_run")]
    pub json: bool,
}

pub async fn run(
    args: ReplayArgs,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let site = SiteId::parse(
        args.site
            .clone()
            .unwrap_or_else(|| args.dataset.default_site().to_owned()),
    )?;
    let replay = match &args.file {
        Some(path) => {
            let csv = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Replay::load(args.dataset, &csv, site)?
        }
        None => Replay::embedded(args.dataset, site)?,
    };
    let limit = usize::try_from(args.limit.unwrap_or(u64::MAX)).unwrap_or(usize::MAX);
    if args.dry_run {
        return dry_run(&args, &replay, limit);
    }
    print_rows(&replay);
    publish(&args, &replay, limit, shutdown).await
}

/// The `--json` line.
#[derive(Serialize)]
struct DryRun<'a> {
    dataset: Dataset,
    site: &'a str,
    policy: &'a str,
    forward_batch: usize,
    rows: &'a RowStats,
    #[serde(flatten)]
    report: &'a ByteReport,
    byte_ratio: f64,
}

fn dry_run(args: &ReplayArgs, replay: &Replay, limit: usize) -> anyhow::Result<()> {
    let policy = ReductionPolicy::load(&args.policy)?;
    let report = measure(
        &policy,
        &replay.site,
        replay.readings().take(limit),
        chrono::Utc::now(),
        args.forward_batch,
    );
    if args.json {
        let line = DryRun {
            dataset: replay.dataset,
            site: replay.site.as_str(),
            policy: &args.policy,
            forward_batch: args.forward_batch,
            rows: &replay.stats,
            report: &report,
            byte_ratio: report.byte_ratio(),
        };
        println!("{}", serde_json::to_string(&line)?);
        return Ok(());
    }
    print_rows(replay);
    let r = &report;
    println!(
        "dry run: {:?} at site {} through policy {:?}, forwarder batches of {} raw readings (nothing published)",
        replay.dataset, replay.site, args.policy, args.forward_batch
    );
    println!("  raw readings          {:>12}", r.raw_readings);
    println!("  forwarded readings    {:>12}", r.forwarded_readings);
    println!(
        "  hub messages          {:>12}  (of them aggregate packs {})",
        r.forwarded_messages, r.aggregate_messages
    );
    println!("  raw bytes             {:>12}", r.raw_bytes);
    println!(
        "  forwarded bytes       {:>12}  (readings {}, aggregates {})",
        r.forwarded_bytes,
        r.forwarded_bytes - r.aggregate_bytes,
        r.aggregate_bytes
    );
    println!("  forwarded/raw bytes   {:>11.1}%", r.byte_ratio() * 100.0);
    let kinds: Vec<String> = r
        .forwarded_by_kind
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    println!("  forwarded by reason   {}", kinds.join(", "));
    let mut by_metric: Vec<(&String, &u64)> = r.bytes_by_metric.iter().collect();
    by_metric.sort_by(|a, b| b.1.cmp(a.1));
    let attributed: u64 = by_metric.iter().map(|(_, bytes)| **bytes).sum();
    println!(
        "  selected JSON by metric, before packing and compression ({} bytes; key and value in readings, entries in aggregates):",
        r.selected_bytes
    );
    for (metric, bytes) in by_metric {
        println!(
            "    {metric:<18} {bytes:>12}  {:>5.1}%",
            percent(*bytes, r.selected_bytes)
        );
    }
    let framing = r.selected_bytes.saturating_sub(attributed);
    println!(
        "    {:<18} {framing:>12}  {:>5.1}%",
        "(ts, kind, JSON)",
        percent(framing, r.selected_bytes)
    );
    Ok(())
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn print_rows(replay: &Replay) {
    let s = &replay.stats;
    println!(
        "{:?}: {} rows -> {} readings ({} unparseable, {} without a value, {} duplicate rows skipped; {} missing and {} out-of-range values dropped)",
        replay.dataset,
        s.rows,
        s.readings,
        s.unparseable_rows,
        s.rows_without_metrics,
        s.duplicate_rows,
        s.missing_values,
        s.out_of_range_values
    );
}

/// Core publishes at the leaf, paced by `--rate`, a progress line every 5 s; stops at the end,
/// at `--limit`, or on SIGINT/SIGTERM, and flushes what it sent.
async fn publish(
    args: &ReplayArgs,
    replay: &Replay,
    limit: usize,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let client = edgeops_bus::connect(&args.leaf_url, "edgeops-replay").await?;
    let total = replay.samples().len().min(limit);
    let interval = (args.rate > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(args.rate)));
    let mut ticker = interval.map(tokio::time::interval);
    tokio::pin!(shutdown);
    let started = Instant::now();
    let mut last_progress = started;
    let mut published = 0usize;
    for sample in replay.samples().iter().take(limit) {
        let pace = async {
            match ticker.as_mut() {
                Some(ticker) => {
                    ticker.tick().await;
                }
                None => tokio::task::yield_now().await,
            }
        };
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            () = pace => {}
        }
        client
            .publish(replay.subject(sample), sample.payload().into())
            .await?;
        published += 1;
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            println!(
                "    t={:>6.1}s  published {published:>7} of {total}  data time {}",
                started.elapsed().as_secs_f64(),
                sample.ts.format("%Y-%m-%d %H:%M UTC"),
            );
        }
    }
    client.flush().await?;
    println!(
        "published {published} of {total} readings at {} on {} in {:.1}s",
        args.leaf_url,
        replay.site,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
