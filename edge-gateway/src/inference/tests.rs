//! Verification, the model table and the engine, with real ONNX models in ONNX Runtime.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use edgeops_artifacts::SigningKeyPair;
use edgeops_contracts::deployment::{ForecastKind, RefusalReason};
use edgeops_contracts::{DeviceId, Reading, SiteId};
use edgeops_features::resample::bin_of;
use edgeops_features::{FeatureSpec, compute_rows};

use super::testing::{desired, key, model_bytes, spec_json, trusted};
use super::{ActiveModel, Engine, ModelTable};

fn spec() -> FeatureSpec {
    FeatureSpec::indoor_air()
}

fn active(version: u32, bias: f64) -> Arc<ActiveModel> {
    let bytes = model_bytes(&spec(), bias, spec_json(&spec()));
    let wanted = desired(&spec(), version, &bytes, &key());
    Arc::new(ActiveModel::prepare(wanted, &bytes, &trusted()).unwrap())
}

fn refusal_of(wanted: edgeops_contracts::deployment::DesiredModel, bytes: &[u8]) -> RefusalReason {
    ActiveModel::prepare(wanted, bytes, &trusted())
        .map(|_| ())
        .unwrap_err()
        .reason
}

#[test]
fn a_signed_model_is_accepted_and_every_kind_of_tampering_refused() {
    let spec = spec();
    let bytes = model_bytes(&spec, 5.0, spec_json(&spec));
    let model = active(1, 5.0);
    assert_eq!(model.spec, spec);
    assert_eq!(model.model.feature_count(), spec.names().len());

    let mut tampered = bytes.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(
        refusal_of(desired(&spec, 1, &bytes, &key()), &tampered),
        RefusalReason::DigestMismatch
    );
    let stranger = SigningKeyPair::from_secret_bytes(&[9; 32]);
    assert_eq!(
        refusal_of(desired(&spec, 1, &bytes, &stranger), &bytes),
        RefusalReason::UnknownKey
    );
    let mut forged = desired(&spec, 1, &bytes, &key());
    forged.signed.manifest.horizon_bins = 1;
    assert_eq!(refusal_of(forged, &bytes), RefusalReason::BadSignature);
    let mut other_version = desired(&spec, 1, &bytes, &key());
    other_version.version = 2;
    assert_eq!(
        refusal_of(other_version, &bytes),
        RefusalReason::ManifestMismatch
    );

    let no_spec = model_bytes(&spec, 5.0, None);
    assert_eq!(
        refusal_of(desired(&spec, 1, &no_spec, &key()), &no_spec),
        RefusalReason::BadFeatureSpec
    );
    let mut narrower = spec.clone();
    narrower.lags.pop();
    let wrong_width = model_bytes(&spec, 5.0, spec_json(&narrower));
    assert_eq!(
        refusal_of(desired(&spec, 1, &wrong_width, &key()), &wrong_width),
        RefusalReason::BadFeatureSpec
    );
    let garbage = b"signed, but not an ONNX model".to_vec();
    assert_eq!(
        refusal_of(desired(&spec, 1, &garbage, &key()), &garbage),
        RefusalReason::LoadFailed
    );
}

#[test]
fn the_table_swaps_rolls_back_and_clears() {
    let table = ModelTable::default();
    let device = DeviceId::parse("d1").unwrap();
    let (v1, v2) = (active(1, 1.0), active(2, 2.0));
    table.install(&device, v1.clone());
    table.install(&device, v2.clone());
    assert_eq!(table.current(&device).unwrap().desired.version, 2);
    assert!(
        table.roll_back_to(&device, &v2.desired).is_none(),
        "v2 is not the previous one"
    );
    let back = table.roll_back_to(&device, &v1.desired).unwrap();
    assert_eq!(back.desired.version, 1);
    assert_eq!(table.slots(&device).previous.unwrap().desired.version, 2);
    assert!(table.clear(&device));
    assert!(table.current(&device).is_none());
    assert_eq!(table.slots(&device).previous.unwrap().desired.version, 1);
}

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600 + minutes * 60, 0).unwrap()
}

fn reading(minutes: i64) -> Reading {
    let co2 = 600.0 + (minutes % 37) as f64 * 3.0;
    Reading {
        site: SiteId::parse("s1").unwrap(),
        device: DeviceId::parse("d1").unwrap(),
        ts: at(minutes),
        metrics: BTreeMap::from([
            ("co2_ppm".to_owned(), co2),
            (
                "temperature_c".to_owned(),
                21.0 + (minutes % 11) as f64 * 0.1,
            ),
            ("humidity_pct".to_owned(), 40.0 + (minutes % 7) as f64),
        ]),
    }
}

#[test]
fn the_engine_forecasts_persistence_until_a_model_and_its_history_are_there() {
    let table = Arc::new(ModelTable::default());
    let mut engine = Engine::new(SiteId::parse("s1").unwrap(), spec(), 6, table.clone());
    let first = engine.observe(&reading(0)).unwrap();
    assert_eq!(first.kind, ForecastKind::Persistence);
    assert_eq!(first.value, 600.0);
    assert_eq!((first.model.clone(), first.horizon_bins), (None, 6));
    assert_eq!(first.valid_at, at(30));

    let device = DeviceId::parse("d1").unwrap();
    let model = active(1, 10.0);
    table.install(&device, model.clone());
    let early = engine.observe(&reading(5)).unwrap();
    assert_eq!(
        early.kind,
        ForecastKind::Persistence,
        "13 bins of history needed"
    );
    assert_eq!(early.horizon_bins, 12, "the model's horizon");

    let mut all: Vec<Reading> = vec![reading(0), reading(5)];
    let mut last = None;
    for minutes in (10..=120).step_by(5) {
        all.push(reading(minutes));
        last = engine.observe(&reading(minutes));
    }
    let last = last.unwrap();
    assert_eq!(last.kind, ForecastKind::Model);
    assert_eq!(last.version, Some(1));
    // The features are the shared feature code's row for the newest bin, from all readings.
    let mut samples: BTreeMap<String, Vec<(DateTime<Utc>, f64)>> = BTreeMap::new();
    for r in &all {
        for (metric, value) in &r.metrics {
            samples
                .entry(metric.clone())
                .or_default()
                .push((r.ts, *value));
        }
    }
    let bin = bin_of(at(120), 300);
    let row = compute_rows(&spec(), &samples, Some(bin)).pop().unwrap();
    let expected: Vec<f32> = row.values.iter().map(|v| *v as f32).collect();
    assert_eq!(last.features.as_deref(), Some(expected.as_slice()));
    let value = model.model.predict_one(&expected).unwrap();
    assert_eq!(last.value, f64::from(value));
    assert_eq!(last.ts, at(120));
}

#[test]
fn a_restart_serves_the_cache_only_what_still_verifies() {
    use super::cache::{CachedDevice, ModelCache};
    use super::restore::restore;
    let dir = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(dir.path());
    let spec = spec();
    let device = DeviceId::parse("d1").unwrap();
    let bytes = |bias| model_bytes(&spec, bias, spec_json(&spec));
    let (v1, v2) = (bytes(1.0), bytes(2.0));
    let (d1, d2) = (
        desired(&spec, 1, &v1, &key()),
        desired(&spec, 2, &v2, &key()),
    );
    for (wanted, artifact) in [(&d1, &v1), (&d2, &v2)] {
        cache
            .store_artifact(&wanted.signed.manifest.artifact.sha256, artifact)
            .unwrap();
    }
    let both = CachedDevice {
        current: Some(d2.clone()),
        previous: Some(d1.clone()),
    };
    cache.save_device(&device, &both).unwrap();

    let table = ModelTable::default();
    assert_eq!(restore(&cache, &trusted(), &table), 2);
    let slots = table.slots(&device);
    assert_eq!(slots.current.unwrap().desired.version, 2);
    assert_eq!(slots.previous.unwrap().desired.version, 1);

    // A key no longer trusted takes its models with it.
    let other =
        edgeops_artifacts::TrustedKeys::from_keys([SigningKeyPair::from_secret_bytes(&[9; 32])
            .public_key()
            .clone()]);
    let table = ModelTable::default();
    assert_eq!(restore(&cache, &other, &table), 0);
    assert!(table.current(&device).is_none());

    // A cached artifact altered on disk is refused; the other slot still restores.
    let path = dir.path().join(format!(
        "artifacts/{}.onnx",
        d2.signed.manifest.artifact.sha256
    ));
    let mut altered = v2.clone();
    altered[10] ^= 1;
    std::fs::write(path, altered).unwrap();
    let table = ModelTable::default();
    assert_eq!(restore(&cache, &trusted(), &table), 1);
    let slots = table.slots(&device);
    assert!(
        slots.current.is_none(),
        "the altered current model does not serve"
    );
    assert_eq!(slots.previous.unwrap().desired.version, 1);
}

#[test]
fn a_manifest_carrying_the_training_reference_is_accepted_as_read_from_the_desired_state() {
    let spec = spec();
    let bytes = model_bytes(&spec, 5.0, spec_json(&spec));
    let mut wanted = desired(&spec, 1, &bytes, &key());
    let mut manifest = wanted.signed.manifest.clone();
    manifest.reference = spec
        .names()
        .iter()
        .map(|name| edgeops_contracts::monitoring::FeatureReference {
            name: name.clone(),
            edges: vec![412.5, 455.0 / 3.0 + 300.0, 610.1],
            shares: vec![0.1, 0.45, 0.35, 0.1],
            min: 380.0,
            max: 1_900.0,
            mean: 505.3,
            std: 0.1 + 0.2,
            rows: 12_000,
        })
        .collect();
    wanted.signed = edgeops_artifacts::sign(manifest, &key()).unwrap();
    // As the deployer reads it from the desired-state bucket.
    let read: edgeops_contracts::deployment::DesiredModel =
        serde_json::from_slice(&serde_json::to_vec(&wanted).unwrap()).unwrap();
    let model = ActiveModel::prepare(read, &bytes, &trusted()).unwrap();
    assert_eq!(
        model.desired.signed.manifest.reference.len(),
        spec.names().len()
    );
}
