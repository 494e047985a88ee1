//! The benchmark's model and inputs: a realistic boosted-tree export over the indoor-air
//! features, signed as the hub would, and feature rows of simulated readings. Everything is
//! deterministic: the figures must not depend on a random seed.

use std::collections::BTreeMap;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use edgeops_artifacts::{ArtifactRef, FeatureSpecRef, Lineage, Manifest, SigningKeyPair, sign};
use edgeops_contracts::deployment::DesiredModel;
use edgeops_contracts::{DeviceId, Reading, SiteId};
use edgeops_features::FeatureSpec;
use edgeops_onnx::{BranchRule, ModelGraph, Regressor, Tree, TreeNode};

/// Training's tree depth: 15 branches and 16 leaves per tree.
pub const TREE_DEPTH: usize = 4;

/// Readings before the first complete feature row (the spec's longest window and lag).
const HISTORY_READINGS: usize = 2_000;

/// A small deterministic generator.
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

/// One room's readings every 5 minutes from 2026-01-01.
pub fn readings(site: &SiteId, device: &DeviceId, count: usize) -> Vec<Reading> {
    let start = DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap_or_default();
    (0..count)
        .map(|i| {
            let x = i as f64;
            Reading {
                site: site.clone(),
                device: device.clone(),
                ts: start + chrono::Duration::minutes(5 * i as i64),
                metrics: BTreeMap::from([
                    ("co2_ppm".to_owned(), 700.0 + 250.0 * (x / 40.0).sin()),
                    ("temperature_c".to_owned(), 21.0 + (x / 90.0).cos()),
                    ("humidity_pct".to_owned(), 45.0 + 6.0 * (x / 70.0).sin()),
                ]),
            }
        })
        .collect()
}

/// Feature rows of `count` readings, as the gateway computes them.
fn feature_rows(
    spec: &FeatureSpec,
    site: &SiteId,
    device: &DeviceId,
    count: usize,
) -> Vec<Vec<f64>> {
    let mut samples: BTreeMap<String, Vec<(DateTime<Utc>, f64)>> = BTreeMap::new();
    for reading in readings(site, device, count) {
        for (metric, value) in reading.metrics {
            samples.entry(metric).or_default().push((reading.ts, value));
        }
    }
    edgeops_features::compute_rows(spec, &samples, None)
        .into_iter()
        .map(|row| row.values)
        .collect()
}

/// `rows` complete feature rows as the model's f32 input, row-major (`rows * F` values).
pub fn input_rows(
    spec: &FeatureSpec,
    site: &SiteId,
    device: &DeviceId,
    rows: usize,
) -> anyhow::Result<Vec<f32>> {
    let all = feature_rows(spec, site, device, rows + HISTORY_READINGS);
    let first = all
        .len()
        .checked_sub(rows)
        .context("fewer complete feature rows than asked for")?;
    Ok(all[first..]
        .iter()
        .flat_map(|row| row.iter().map(|v| *v as f32))
        .collect())
}

fn tree(rng: &mut Lcg, rows: &[Vec<f64>], features: usize) -> Tree {
    let branches = (1 << TREE_DEPTH) - 1;
    let mut nodes = Vec::new();
    for i in 0..branches {
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
    nodes.extend((0..=branches).map(|_| TreeNode::Leaf {
        value: (rng.next() - 0.5) * 4.0,
    }));
    Tree { nodes }
}

/// The ONNX bytes of `trees` depth-4 trees whose thresholds are realistic feature values.
pub fn onnx_model(
    spec: &FeatureSpec,
    site: &SiteId,
    device: &DeviceId,
    trees: usize,
) -> anyhow::Result<Vec<u8>> {
    let rows = feature_rows(spec, site, device, HISTORY_READINGS);
    anyhow::ensure!(!rows.is_empty(), "no feature rows to draw thresholds from");
    let names = spec.names();
    let mut rng = Lcg(42);
    let graph = ModelGraph {
        feature_names: names.clone(),
        regressor: Regressor::TreeEnsemble {
            base: 0.0,
            trees: (0..trees)
                .map(|_| tree(&mut rng, &rows, names.len()))
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

/// The desired state the hub would publish for these bytes, signed with `key`.
pub fn desired(
    spec: &FeatureSpec,
    bytes: &[u8],
    key: &SigningKeyPair,
) -> anyhow::Result<DesiredModel> {
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
        reference: Vec::new(),
    };
    Ok(DesiredModel {
        rollout: None,
        model: "co2-room".into(),
        version: 1,
        signed: sign(manifest, key)?,
        bucket: "edgeops_models".into(),
    })
}
