//! One run's figures (each run is a child process that prints them as a JSON line) and the
//! medians over runs, against the targets.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::measure::Latency;
use crate::python::PythonReport;

/// p50 of `Model::predict_one` must be at most this, in µs.
const P50_TARGET_US: f64 = 20.0;
/// The Python loop's p50 over the gateway's must be at least this.
const SPEED_UP_TARGET: f64 = 3.0;
/// Resident memory with the model loaded must be at most this, in MiB.
const RSS_TARGET_MIB: f64 = 64.0;

#[derive(Debug, Serialize, Deserialize)]
pub struct RunReport {
    pub benchmark: String,
    pub model: ModelInfo,
    pub rows: usize,
    pub predict_one_us: Latency,
    pub forecast_per_reading_us: Latency,
    pub warm_up_us: u64,
    pub verify_load_warm_up_us: u64,
    pub vm_rss_kib: Rss,
    /// The version of the library the gateway loaded, when `ORT_DYLIB_PATH` names it.
    pub onnxruntime: Option<String>,
    pub python: Option<PythonReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelInfo {
    pub kind: String,
    pub trees: usize,
    pub depth: usize,
    pub features: usize,
    pub onnx_bytes: usize,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Rss {
    pub before_runtime: u64,
    pub runtime_started: u64,
    pub model_loaded: u64,
    pub serving_one_device: u64,
}

/// Medians over runs; ratios are per run (same process, same minute), then the median.
#[derive(Debug, Serialize)]
pub struct Summary {
    benchmark: &'static str,
    runs: usize,
    model: ModelInfo,
    rows: usize,
    calls_per_side: usize,
    timing: &'static str,
    median: Medians,
    targets: Targets,
}

#[derive(Debug, Serialize)]
struct Medians {
    predict_one_p50_us: f64,
    predict_one_p99_us: f64,
    forecast_per_reading_p50_us: f64,
    forecast_per_reading_p99_us: f64,
    python_run_p50_us: Option<f64>,
    python_run_p99_us: Option<f64>,
    python_io_binding_p50_us: Option<f64>,
    python_io_binding_p99_us: Option<f64>,
    python_run_over_predict_one_p50: Option<f64>,
    python_io_binding_over_predict_one_p50: Option<f64>,
    warm_up_us: f64,
    verify_load_warm_up_us: f64,
    vm_rss_model_loaded_mib: f64,
    vm_rss_serving_mib: f64,
}

#[derive(Debug, Serialize)]
struct Targets {
    predict_one_p50_at_most_20_us: bool,
    python_run_at_least_3x_predict_one: Option<bool>,
    vm_rss_model_loaded_at_most_64_mib: bool,
}

impl Summary {
    /// `None` without runs.
    pub fn of(runs: &[RunReport]) -> Option<Summary> {
        let first = runs.first()?;
        let mib = |kib: u64| kib as f64 / 1024.0;
        let median = Medians {
            predict_one_p50_us: median(runs, |r| r.predict_one_us.p50),
            predict_one_p99_us: median(runs, |r| r.predict_one_us.p99),
            forecast_per_reading_p50_us: median(runs, |r| r.forecast_per_reading_us.p50),
            forecast_per_reading_p99_us: median(runs, |r| r.forecast_per_reading_us.p99),
            python_run_p50_us: python_median(runs, |_, py| py.run.latency.p50),
            python_run_p99_us: python_median(runs, |_, py| py.run.latency.p99),
            python_io_binding_p50_us: python_median(runs, |_, py| py.io_binding.latency.p50),
            python_io_binding_p99_us: python_median(runs, |_, py| py.io_binding.latency.p99),
            python_run_over_predict_one_p50: python_median(runs, |r, py| {
                py.run.latency.p50 / r.predict_one_us.p50
            }),
            python_io_binding_over_predict_one_p50: python_median(runs, |r, py| {
                py.io_binding.latency.p50 / r.predict_one_us.p50
            }),
            warm_up_us: median(runs, |r| r.warm_up_us as f64),
            verify_load_warm_up_us: median(runs, |r| r.verify_load_warm_up_us as f64),
            vm_rss_model_loaded_mib: median(runs, |r| mib(r.vm_rss_kib.model_loaded)),
            vm_rss_serving_mib: median(runs, |r| mib(r.vm_rss_kib.serving_one_device)),
        };
        let targets = Targets {
            predict_one_p50_at_most_20_us: median.predict_one_p50_us <= P50_TARGET_US,
            python_run_at_least_3x_predict_one: median
                .python_run_over_predict_one_p50
                .map(|ratio| ratio >= SPEED_UP_TARGET),
            vm_rss_model_loaded_at_most_64_mib: median.vm_rss_model_loaded_mib <= RSS_TARGET_MIB,
        };
        Some(Summary {
            benchmark: "edge_inference_vs_python",
            runs: runs.len(),
            model: first.model.clone(),
            rows: first.rows,
            calls_per_side: first.predict_one_us.calls,
            timing: "per call: Instant (Rust), perf_counter_ns (Python)",
            median,
            targets,
        })
    }

    /// The medians side by side, for people (the JSON is for tools).
    pub fn table(&self) -> String {
        let m = &self.median;
        let mut out = format!(
            "single-row latency, median of {} runs ({} rows, {} timed calls per side)\n",
            self.runs, self.rows, self.calls_per_side
        );
        let mut line = |name: &str, p50: Option<f64>, p99: Option<f64>| {
            if let (Some(p50), Some(p99)) = (p50, p99) {
                let _ = writeln!(out, "  {name:<42} p50 {p50:>8.2} µs   p99 {p99:>8.2} µs");
            }
        };
        line(
            "gateway Model::predict_one",
            Some(m.predict_one_p50_us),
            Some(m.predict_one_p99_us),
        );
        line(
            "gateway forecast per reading (whole path)",
            Some(m.forecast_per_reading_p50_us),
            Some(m.forecast_per_reading_p99_us),
        );
        line(
            "python session.run",
            m.python_run_p50_us,
            m.python_run_p99_us,
        );
        line(
            "python io_binding",
            m.python_io_binding_p50_us,
            m.python_io_binding_p99_us,
        );
        if let (Some(run), Some(bound)) = (
            m.python_run_over_predict_one_p50,
            m.python_io_binding_over_predict_one_p50,
        ) {
            let _ = writeln!(
                out,
                "  python p50 / gateway predict_one p50: session.run {run:.2}x \
                 (target >= {SPEED_UP_TARGET}x), io_binding {bound:.2}x"
            );
        }
        let _ = writeln!(
            out,
            "  resident memory, model loaded: {:.1} MiB (target <= {RSS_TARGET_MIB}); \
             warm-up {:.0} µs; verify + load + warm-up {:.1} ms",
            m.vm_rss_model_loaded_mib,
            m.warm_up_us,
            m.verify_load_warm_up_us / 1e3
        );
        out
    }
}

fn median(runs: &[RunReport], figure: impl Fn(&RunReport) -> f64) -> f64 {
    median_of(runs.iter().map(figure).collect()).unwrap_or(f64::NAN)
}

/// `None` unless every run timed the Python side.
fn python_median(
    runs: &[RunReport],
    figure: impl Fn(&RunReport, &PythonReport) -> f64,
) -> Option<f64> {
    let values: Option<Vec<f64>> = runs
        .iter()
        .map(|r| r.python.as_ref().map(|py| figure(r, py)))
        .collect();
    median_of(values?)
}

fn median_of(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => values.get(n / 2).copied(),
        _ => Some((values.get(n / 2 - 1)? + values.get(n / 2)?) / 2.0),
    }
}
