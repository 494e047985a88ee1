//! What a model costs the gateway: resident memory, load and warm-up time, and the latency of
//! one forecast (the model alone, and the whole per-reading path with the feature row) —
//! optionally next to a Python `onnxruntime` loop over the same model bytes and rows.
//!
//! The model is a realistic boosted-tree export: `--trees` trees of depth 4 (training's depth)
//! over the indoor-air features, thresholds drawn from realistic feature values, written by
//! `edgeops-onnx` and loaded through the gateway's own verify-load-warm-up path. Each of
//! `--runs` runs is a fresh child process (so its memory is its own) that prints one JSON line;
//! the last line holds the medians, and a table of them goes to stderr. From the workspace root:
//!
//! ```text
//! infra/scripts/bench-inference.sh          # with the Python loop (installs what it needs)
//! cargo run --release -p edgeops-edge-gateway --example inference_footprint -- --trees 300
//! ```
//!
//! Memory is `VmRSS` from `/proc/self/status`: before ONNX Runtime, after it started, after the
//! model was loaded and warmed up (before any benchmark input exists), and after serving.

mod measure;
mod model;
mod python;
mod report;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use clap::Parser;
use edgeops_artifacts::{SigningKeyPair, TrustedKeys};
use edgeops_contracts::{DeviceId, SiteId};
use edgeops_edge_gateway::inference::{ActiveModel, Engine, ModelTable};
use edgeops_features::FeatureSpec;

use crate::measure::vm_rss_kib;
use crate::report::{ModelInfo, Rss, RunReport, Summary};

/// Readings through the whole per-reading forecast path.
const FORECAST_READINGS: usize = 5_000;

#[derive(Debug, Parser)]
struct Args {
    /// Trees in the ensemble, depth 4 each.
    #[arg(long, default_value_t = 300)]
    trees: usize,
    /// Fixed feature rows, predicted one at a time.
    #[arg(long, default_value_t = 10_000)]
    rows: usize,
    /// Timed passes over the rows, on each side.
    #[arg(long, default_value_t = 5)]
    passes: usize,
    /// Runs, each in a fresh process; the summary holds their medians.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// A Python with numpy and onnxruntime: also time the Python loop on the same rows.
    #[arg(long)]
    python: Option<PathBuf>,
    /// Write the model and rows here (kept) instead of a temporary directory.
    #[arg(long)]
    inputs_dir: Option<PathBuf>,
    /// Do one run in this process and print its JSON line (what each child does).
    #[arg(long, hide = true)]
    one_run: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.one_run {
        println!("{}", serde_json::to_string(&one_run(&args)?)?);
        return Ok(());
    }
    let mut runs = Vec::with_capacity(args.runs);
    for _ in 0..args.runs {
        let output = Command::new(std::env::current_exe()?)
            .args(std::env::args_os().skip(1))
            .arg("--one-run")
            .stderr(Stdio::inherit())
            .output()
            .context("starting a run")?;
        anyhow::ensure!(output.status.success(), "a run failed: {}", output.status);
        let line = String::from_utf8(output.stdout)?;
        print!("{line}");
        runs.push(serde_json::from_str::<RunReport>(&line).context("a run's JSON line")?);
    }
    let summary = Summary::of(&runs).context("--runs must be at least 1")?;
    println!("{}", serde_json::to_string(&summary)?);
    eprint!("{}", summary.table());
    Ok(())
}

fn one_run(args: &Args) -> anyhow::Result<RunReport> {
    let spec = FeatureSpec::indoor_air();
    let (site, device) = (SiteId::parse("bench")?, DeviceId::parse("room-1")?);
    let bytes = model::onnx_model(&spec, &site, &device, args.trees)?;
    let key = SigningKeyPair::from_secret_bytes(&[1; 32]);
    let trusted = TrustedKeys::from_keys([key.public_key().clone()]);
    let wanted = model::desired(&spec, &bytes, &key)?;

    let rss_before_runtime = vm_rss_kib();
    edgeops_inference::init_runtime()?;
    let rss_runtime = vm_rss_kib();
    let loading = Instant::now();
    let active = Arc::new(ActiveModel::prepare(wanted, &bytes, &trusted)?);
    let verify_load_warm = loading.elapsed();
    let rss_model = vm_rss_kib();

    let rows = model::input_rows(&spec, &site, &device, args.rows)?;
    let (predict_one, forecasts) = measure::predict_one(&active.model, &rows, args.passes)?;
    let table = Arc::new(ModelTable::default());
    table.install(&device, active.clone());
    let mut engine = Engine::new(site.clone(), spec.clone(), 12, table);
    let readings = model::readings(&site, &device, FORECAST_READINGS);
    let forecast_per_reading = measure::forecast_per_reading(&mut engine, &readings);
    let rss_serving = vm_rss_kib();

    let python = match &args.python {
        None => None,
        Some(interpreter) => {
            let temporary = tempfile::tempdir()?;
            let dir = args.inputs_dir.as_deref().unwrap_or(temporary.path());
            std::fs::create_dir_all(dir)?;
            let compared =
                python::compare(interpreter, dir, &bytes, &rows, &forecasts, args.passes)?;
            Some(compared)
        }
    };
    Ok(RunReport {
        benchmark: "edge_inference_footprint".into(),
        model: ModelInfo {
            kind: "tree_ensemble".into(),
            trees: args.trees,
            depth: model::TREE_DEPTH,
            features: spec.names().len(),
            onnx_bytes: bytes.len(),
        },
        rows: forecasts.len(),
        predict_one_us: predict_one,
        forecast_per_reading_us: forecast_per_reading,
        warm_up_us: active.warm_up_us(),
        verify_load_warm_up_us: u64::try_from(verify_load_warm.as_micros()).unwrap_or(u64::MAX),
        vm_rss_kib: Rss {
            before_runtime: rss_before_runtime,
            runtime_started: rss_runtime,
            model_loaded: rss_model,
            serving_one_device: rss_serving,
        },
        onnxruntime: python::runtime_version(),
        python,
    })
}
