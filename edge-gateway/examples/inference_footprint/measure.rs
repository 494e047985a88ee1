//! Timing and memory readings. Latency is timed per call (`Instant` around each call), the
//! same way the Python loop times each `session.run` with `perf_counter_ns`.

use std::time::{Duration, Instant};

use edgeops_contracts::Reading;
use edgeops_edge_gateway::inference::Engine;
use edgeops_inference::Model;
use serde::{Deserialize, Serialize};

/// Untimed calls before timing starts, on both sides.
pub const WARM_UP_CALLS: usize = 1_000;

/// Forecasts before the per-reading timing starts (the window fills first).
const FORECAST_WARM_UP: usize = 200;

/// Percentiles of per-call latencies, in microseconds.
#[derive(Debug, Serialize, Deserialize)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub mean: f64,
    pub calls: usize,
}

impl Latency {
    /// Nearest-rank on the sorted samples (index `round((n - 1) * q)`), as the Python side does.
    fn of(mut samples: Vec<Duration>) -> Latency {
        samples.sort();
        let at = |q: f64| {
            let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e6)
        };
        let total: Duration = samples.iter().sum();
        Latency {
            p50: at(0.5),
            p99: at(0.99),
            mean: total.as_secs_f64() * 1e6 / samples.len().max(1) as f64,
            calls: samples.len(),
        }
    }
}

/// `Model::predict_one` over every row (`F` values each), `passes` times, after
/// [`WARM_UP_CALLS`] untimed calls. Returns the latencies and the last pass's forecasts.
pub fn predict_one(
    model: &Model,
    rows: &[f32],
    passes: usize,
) -> anyhow::Result<(Latency, Vec<f32>)> {
    let rows: Vec<&[f32]> = rows.chunks_exact(model.feature_count()).collect();
    for row in rows.iter().cycle().take(WARM_UP_CALLS) {
        model.predict_one(row)?;
    }
    let mut samples = Vec::with_capacity(rows.len() * passes);
    let mut forecasts = vec![0.0; rows.len()];
    for _ in 0..passes {
        for (row, forecast) in rows.iter().zip(&mut forecasts) {
            let start = Instant::now();
            *forecast = model.predict_one(row)?;
            samples.push(start.elapsed());
        }
    }
    Ok((Latency::of(samples), forecasts))
}

/// The gateway's whole per-reading path (window, feature row, model) over `readings`.
pub fn forecast_per_reading(engine: &mut Engine, readings: &[Reading]) -> Latency {
    let mut samples = Vec::with_capacity(readings.len());
    for (i, reading) in readings.iter().enumerate() {
        let start = Instant::now();
        engine.observe(reading);
        if i >= FORECAST_WARM_UP {
            samples.push(start.elapsed());
        }
    }
    Latency::of(samples)
}

/// This process's resident set (`VmRSS`), in KiB.
pub fn vm_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
