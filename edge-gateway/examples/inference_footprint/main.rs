//! What a model costs the gateway: resident memory, load and warm-up time, and the latency of
//! one forecast (the model alone, and the whole per-reading path with the feature row).
//!
//! The model is a realistic boosted-tree export: `--trees` trees of depth 4 (training's depth)
//! over the indoor-air features, thresholds drawn from realistic feature values, written by
//! `edgeops-onnx` and loaded through the gateway's own verify-load-warm-up path. Prints one JSON
//! object. Run from the workspace root with ONNX Runtime set up (`source .tools/env`):
//!
//! ```text
//! cargo run --release -p edgeops-edge-gateway --example inference_footprint -- --trees 300
//! ```
//!
//! Memory is `VmRSS` from `/proc/self/status`: before ONNX Runtime, after it started, and after
//! the model was loaded and warmed up. Run it in its own process: nothing else is measured.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use edgeops_artifacts::{
    ArtifactRef, FeatureSpecRef, Lineage, Manifest, SigningKeyPair, TrustedKeys, sign,
};
use edgeops_contracts::deployment::DesiredModel;
use edgeops_contracts::{DeviceId, Reading, SiteId};
use edgeops_edge_gateway::inference::{ActiveModel, Engine, ModelTable};
use edgeops_features::FeatureSpec;
use edgeops_onnx::{BranchRule, ModelGraph, Regressor, Tree, TreeNode};

/// A small deterministic generator: the figures must not depend on a random seed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn readings(site: &SiteId, device: &DeviceId, count: i64) -> Vec<Reading> {
    let start = DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap_or_default();
    (0..count)
        .map(|i| {
            let x = i as f64;
            Reading {
                site: site.clone(),
                device: device.clone(),
                ts: start + chrono::Duration::minutes(5 * i),
                metrics: BTreeMap::from([
                    ("co2_ppm".to_owned(), 700.0 + 250.0 * (x / 40.0).sin()),
                    ("temperature_c".to_owned(), 21.0 + (x / 90.0).cos()),
                    ("humidity_pct".to_owned(), 45.0 + 6.0 * (x / 70.0).sin()),
                ]),
            }
        })
        .collect()
}

/// Feature rows of realistic readings, for thresholds and latency inputs.
fn rows(spec: &FeatureSpec, site: &SiteId, device: &DeviceId) -> Vec<Vec<f64>> {
    let all = readings(site, device, 2_000);
    let mut samples: BTreeMap<String, Vec<(DateTime<Utc>, f64)>> = BTreeMap::new();
    for reading in &all {
        for (metric, value) in &reading.metrics {
            samples
                .entry(metric.clone())
                .or_default()
                .push((reading.ts, *value));
        }
    }
    edgeops_features::compute_rows(spec, &samples, None)
        .into_iter()
        .map(|row| row.values)
        .collect()
}

fn tree(rng: &mut Lcg, rows: &[Vec<f64>], features: usize) -> Tree {
    let mut nodes = Vec::new();
    for i in 0..15 {
        let feature = (rng.next() * features as f64) as usize % features;
        let row = &rows[(rng.next() * rows.len() as f64) as usize % rows.len()];
        nodes.push(TreeNode::Branch {
            feature,
            threshold: row[feature],
            rule: BranchRule::LessThan,
            if_true: 2 * i + 1,
            if_false: 2 * i + 2,
            missing_goes_true: true,
        });
    }
    nodes.extend((0..16).map(|_| TreeNode::Leaf {
        value: (rng.next() - 0.5) * 4.0,
    }));
    Tree { nodes }
}

fn model(spec: &FeatureSpec, trees: usize, rows: &[Vec<f64>]) -> anyhow::Result<Vec<u8>> {
    let names = spec.names();
    let mut rng = Lcg(42);
    let graph = ModelGraph {
        feature_names: names.clone(),
        regressor: Regressor::TreeEnsemble {
            base: 0.0,
            trees: (0..trees)
                .map(|_| tree(&mut rng, rows, names.len()))
                .collect(),
        },
        plus_feature: names.iter().position(|n| *n == spec.target),
        metadata: vec![(
            "edgeops.feature_spec".to_owned(),
            serde_json::to_string(spec)?,
        )],
        doc: "footprint benchmark".into(),
        model_version: 1,
    };
    Ok(edgeops_onnx::encode(&graph)?)
}

fn desired(spec: &FeatureSpec, bytes: &[u8], key: &SigningKeyPair) -> anyhow::Result<DesiredModel> {
    let manifest = Manifest {
        model: "co2-room".into(),
        version: 1,
        artifact: ArtifactRef::of("co2-room/bench.onnx", bytes),
        feature_spec: FeatureSpecRef {
            name: spec.name.clone(),
            version: spec.version,
            inputs: spec.names(),
        },
        horizon_bins: 12,
        metrics: BTreeMap::new(),
        lineage: Lineage {
            training_run: uuid::Uuid::nil(),
            dataset_fingerprint: "0".repeat(64),
            code_version: "bench".into(),
        },
        created_at: Utc::now(),
    };
    Ok(DesiredModel {
        rollout: None,
        model: "co2-room".into(),
        version: 1,
        signed: sign(manifest, key)?,
        bucket: "edgeops_models".into(),
    })
}

fn vm_rss_kib() -> u64 {
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

fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e6)
    };
    (at(0.5), at(0.99))
}

fn main() -> anyhow::Result<()> {
    let trees: usize = std::env::args()
        .skip_while(|a| a != "--trees")
        .nth(1)
        .map(|v| v.parse())
        .transpose()
        .context("--trees takes a number")?
        .unwrap_or(300);
    let spec = FeatureSpec::indoor_air();
    let (site, device) = (SiteId::parse("bench")?, DeviceId::parse("room-1")?);
    let rows = rows(&spec, &site, &device);
    let bytes = model(&spec, trees, &rows)?;
    let key = SigningKeyPair::from_secret_bytes(&[1; 32]);
    let trusted = TrustedKeys::from_keys([key.public_key().clone()]);
    let wanted = desired(&spec, &bytes, &key)?;

    let rss_before_runtime = vm_rss_kib();
    edgeops_inference::init_runtime()?;
    let rss_runtime = vm_rss_kib();
    let loading = Instant::now();
    let active = Arc::new(ActiveModel::prepare(wanted, &bytes, &trusted)?);
    let verify_load_warm = loading.elapsed();
    let rss_model = vm_rss_kib();

    let inputs: Vec<Vec<f32>> = rows
        .iter()
        .map(|r| r.iter().map(|v| *v as f32).collect())
        .collect();
    let mut model_calls = Vec::with_capacity(20_000);
    for row in inputs.iter().cycle().take(20_000) {
        let start = Instant::now();
        active.model.predict_one(row)?;
        model_calls.push(start.elapsed());
    }

    let table = Arc::new(ModelTable::default());
    table.install(&device, active.clone());
    let mut engine = Engine::new(site.clone(), spec.clone(), 12, table);
    let mut forecast_calls = Vec::new();
    for (i, reading) in readings(&site, &device, 5_000).iter().enumerate() {
        let start = Instant::now();
        engine.observe(reading);
        if i >= 200 {
            forecast_calls.push(start.elapsed());
        }
    }
    let rss_serving = vm_rss_kib();

    let (model_p50, model_p99) = percentiles(model_calls);
    let (forecast_p50, forecast_p99) = percentiles(forecast_calls);
    let report = serde_json::json!({
        "benchmark": "edge_inference_footprint",
        "model": {"kind": "tree_ensemble", "trees": trees, "depth": 4, "features": spec.names().len(), "onnx_bytes": bytes.len()},
        "predict_one_us": {"p50": model_p50, "p99": model_p99, "calls": 20_000},
        "forecast_per_reading_us": {"p50": forecast_p50, "p99": forecast_p99, "readings": 4_800},
        "warm_up_us": active.warm_up_us(),
        "verify_load_warm_up_us": u64::try_from(verify_load_warm.as_micros()).unwrap_or(u64::MAX),
        "vm_rss_kib": {
            "before_runtime": rss_before_runtime,
            "runtime_started": rss_runtime,
            "model_loaded": rss_model,
            "serving_one_device": rss_serving,
        },
    });
    println!("{report}");
    Ok(())
}
