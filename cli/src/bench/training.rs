//! Training's cost at scale: wall time per phase and the process's peak resident memory for a
//! given number of feature rows. Each size runs in a fresh child process (the same binary), so
//! one size's peak memory does not hide behind another's.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;

use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};
use edgeops_features::{FeatureSpec, compute_rows};
use edgeops_ml::{Dataset, DeviceRows, TrainConfig, train};
use serde::{Deserialize, Serialize};

use edgeops_testkit::simulator::Room;

/// Bins per simulated room: 35 days of 5-minute bins.
const BINS_PER_ROOM: usize = 10_000;

#[derive(Debug, clap::Args)]
pub struct TrainBenchArgs {
    /// Feature-row counts to measure, each in its own process.
    #[arg(long, value_delimiter = ',', default_value = "100000,1000000")]
    pub rows: Vec<usize>,
    /// Internal: measure one size in this process and print its JSON result.
    #[arg(long, hide = true)]
    pub one: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainBenchResult {
    pub feature_rows: usize,
    pub examples: usize,
    pub features: usize,
    pub features_seconds: f64,
    pub dataset_seconds: f64,
    pub train_seconds: f64,
    pub trees: usize,
    pub peak_rss_mb: f64,
    pub winner: String,
    pub skill_vs_persistence: f64,
}

/// Simulated rooms' feature rows (indoor_air), about `rows` of them.
fn feature_rows(rows: usize) -> Vec<DeviceRows> {
    let spec = FeatureSpec::indoor_air();
    let rooms = rows.div_ceil(BINS_PER_ROOM);
    let start: DateTime<Utc> = DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
    (0..rooms)
        .map(|r| {
            let bins = BINS_PER_ROOM.min(rows - r * BINS_PER_ROOM) + spec.history_bins();
            let mut room = Room::new(format!("room-{r:04}"), r as u64 + 1);
            let mut samples: BTreeMap<String, Vec<(DateTime<Utc>, f64)>> = BTreeMap::new();
            for bin in 0..bins {
                let at = start + Duration::seconds(300 * bin as i64);
                let m = room.measure(at, 300.0);
                for (metric, value) in [
                    ("co2_ppm", m.co2_ppm),
                    ("temperature_c", m.temperature_c),
                    ("humidity_pct", m.humidity_pct),
                ] {
                    samples.entry(metric.into()).or_default().push((at, value));
                }
            }
            DeviceRows {
                device: format!("bench/{}", room.device),
                rows: compute_rows(&spec, &samples, None),
            }
        })
        .collect()
}

/// Peak resident set size of this process (Linux `VmHWM`), in MiB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn measure_one(rows: usize) -> anyhow::Result<TrainBenchResult> {
    let spec = FeatureSpec::indoor_air();
    let started = Instant::now();
    let devices = feature_rows(rows);
    let features_seconds = started.elapsed().as_secs_f64();
    let feature_rows: usize = devices.iter().map(|d| d.rows.len()).sum();
    let started = Instant::now();
    let dataset = Dataset::build(&spec, 6, &devices)?;
    drop(devices);
    let dataset_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let (report, model) = train(&dataset, &TrainConfig::default())?;
    let train_seconds = started.elapsed().as_secs_f64();
    let trees = match &model {
        edgeops_ml::TrainedModel::Gbt { model, .. } => model.trees.len(),
        edgeops_ml::TrainedModel::Ridge { .. } => 0,
    };
    Ok(TrainBenchResult {
        feature_rows,
        examples: dataset.rows(),
        features: dataset.cols(),
        features_seconds,
        dataset_seconds,
        train_seconds,
        trees,
        peak_rss_mb: peak_rss_mb(),
        winner: report.winner().name.clone(),
        skill_vs_persistence: report.winner().skill_vs_persistence,
    })
}

pub fn run(args: TrainBenchArgs) -> anyhow::Result<()> {
    if let Some(rows) = args.one {
        println!("{}", serde_json::to_string(&measure_one(rows)?)?);
        return Ok(());
    }
    let exe = std::env::current_exe().context("locating this binary")?;
    println!(
        "{:>10} {:>9} {:>8} {:>10} {:>10} {:>9} {:>6} {:>10}  winner (skill)",
        "rows", "features", "rows/s", "feat s", "train s", "peak MB", "trees", "examples"
    );
    for rows in args.rows {
        eprintln!(
            "[bench-training] {rows} feature rows: simulating, computing features, training ..."
        );
        let output = Command::new(&exe)
            .args(["bench-training", "--one", &rows.to_string()])
            .output()
            .context("running the measurement child")?;
        if !output.status.success() {
            anyhow::bail!(
                "measuring {rows} rows failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let result: TrainBenchResult =
            serde_json::from_slice(&output.stdout).with_context(|| {
                format!(
                    "reading the child's result: {}",
                    String::from_utf8_lossy(&output.stdout)
                )
            })?;
        println!(
            "{:>10} {:>9} {:>8.0} {:>10.1} {:>10.1} {:>9.0} {:>6} {:>10}  {} ({:.1}%)",
            result.feature_rows,
            result.features,
            result.examples as f64 / result.train_seconds.max(1e-9),
            result.features_seconds,
            result.train_seconds,
            result.peak_rss_mb,
            result.trees,
            result.examples,
            result.winner,
            result.skill_vs_persistence * 100.0
        );
        println!("BENCH_TRAINING {}", serde_json::to_string(&result)?);
    }
    Ok(())
}
