//! The Python baseline: the exact model bytes and rows written to a directory, and
//! `ort_single_row.py` run on them by the interpreter given with `--python`.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context as _;
use edgeops_inference::DYLIB_ENV_VAR;
use serde::{Deserialize, Serialize};

use crate::measure::{Latency, WARM_UP_CALLS};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/inference_footprint/ort_single_row.py"
);

/// Python's and the gateway's forecasts must agree this closely (same model, same rows).
const MAX_FORECAST_DIFF: f64 = 1e-4;

/// What `ort_single_row.py` prints.
#[derive(Debug, Serialize, Deserialize)]
pub struct PythonReport {
    pub onnxruntime: String,
    pub numpy: String,
    pub session_load_us: f64,
    pub vm_rss_kib: u64,
    /// `session.run` per row.
    pub run: PythonLoop,
    /// IOBinding with preallocated input and output per row.
    pub io_binding: PythonLoop,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PythonLoop {
    #[serde(flatten)]
    pub latency: Latency,
    /// Largest difference from the gateway's forecast of the same row.
    pub max_abs_diff: f64,
}

/// Writes `model.onnx`, `rows.f32` and the gateway's `forecasts.f32` (little-endian f32) into
/// `dir`, runs the script over them and checks it used the same ONNX Runtime version and
/// predicted what the gateway did.
pub fn compare(
    python: &Path,
    dir: &Path,
    model: &[u8],
    rows: &[f32],
    forecasts: &[f32],
    passes: usize,
) -> anyhow::Result<PythonReport> {
    std::fs::write(dir.join("model.onnx"), model)?;
    std::fs::write(dir.join("rows.f32"), little_endian(rows))?;
    std::fs::write(dir.join("forecasts.f32"), little_endian(forecasts))?;
    let features = rows.len() / forecasts.len().max(1);
    let output = Command::new(python)
        .arg(SCRIPT)
        .arg("--dir")
        .arg(dir)
        .args(["--features", &features.to_string()])
        .args(["--passes", &passes.to_string()])
        .args(["--warm-up", &WARM_UP_CALLS.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {} {SCRIPT}", python.display()))?;
    anyhow::ensure!(
        output.status.success(),
        "{SCRIPT} failed: {}",
        output.status
    );
    let report: PythonReport =
        serde_json::from_slice(&output.stdout).context("reading the Python script's JSON")?;

    let gateway_version = runtime_version().with_context(|| {
        format!("{DYLIB_ENV_VAR} must name libonnxruntime.so.<version> (source .tools/env)")
    })?;
    anyhow::ensure!(
        report.onnxruntime == gateway_version,
        "Python has onnxruntime {}, the gateway {gateway_version}",
        report.onnxruntime
    );
    for (name, side) in [("run", &report.run), ("io_binding", &report.io_binding)] {
        anyhow::ensure!(
            side.max_abs_diff <= MAX_FORECAST_DIFF,
            "Python's {name} loop differs from the gateway by up to {}: not the same model or rows",
            side.max_abs_diff
        );
    }
    Ok(report)
}

/// The version of the ONNX Runtime library the gateway loads, from the name of the file
/// `$ORT_DYLIB_PATH` resolves to (`.tools/lib/libonnxruntime.so` → `libonnxruntime.so.1.31.1`).
pub fn runtime_version() -> Option<String> {
    let path = std::fs::canonicalize(std::env::var_os(DYLIB_ENV_VAR)?).ok()?;
    let name = path.file_name()?.to_str()?;
    name.strip_prefix("libonnxruntime.so.").map(str::to_owned)
}

fn little_endian(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}
