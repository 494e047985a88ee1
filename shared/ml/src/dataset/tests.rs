use chrono::{DateTime, Utc};
use edgeops_features::{FeatureRow, FeatureSpec};
use proptest::prelude::*;

use super::*;

fn spec() -> FeatureSpec {
    FeatureSpec::parking_occupancy()
}

fn rows(values: &[f64]) -> Vec<FeatureRow> {
    let width = spec().names().len();
    values
        .iter()
        .enumerate()
        .map(|(i, v)| FeatureRow {
            ts: DateTime::<Utc>::from_timestamp(1_700_000_400 + 1800 * i as i64, 0).unwrap(),
            values: vec![*v; width],
            interpolated: false,
        })
        .collect()
}

fn device(name: &str, values: &[f64]) -> DeviceRows {
    DeviceRows {
        device: name.into(),
        rows: rows(values),
    }
}

#[test]
fn labels_are_the_target_horizon_bins_later() {
    let values: Vec<f64> = (0..10).map(f64::from).collect();
    let dataset = Dataset::build(&spec(), 2, &[device("s/d", &values)]).unwrap();
    assert_eq!(dataset.rows(), 8);
    for i in 0..dataset.rows() {
        assert_eq!(dataset.y[i], dataset.current(i) + 2.0);
    }
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    assert_eq!(
        Dataset::build(&spec(), 1, &[]).unwrap_err(),
        DatasetError::NoRows
    );
    let mut nan = device("s/d", &[1.0, 2.0, 3.0]);
    for row in &mut nan.rows {
        row.values[1] = f64::NAN;
    }
    assert!(matches!(
        Dataset::build(&spec(), 1, &[nan]),
        Err(DatasetError::FeatureAlwaysMissing(name)) if name == spec().names()[1]
    ));
    let mut short = device("s/d", &[1.0]);
    short.rows[0].values.pop();
    assert!(matches!(
        Dataset::build(&spec(), 1, &[short]),
        Err(DatasetError::WrongWidth { .. })
    ));
    let few = Dataset::build(&spec(), 1, &[device("s/d", &[1.0, 2.0, 3.0])]).unwrap();
    assert!(matches!(
        few.split(0.2, 200, 48),
        Err(DatasetError::TooFewRows { .. })
    ));
}

#[test]
fn the_fingerprint_names_the_content() {
    let values: Vec<f64> = (0..50).map(f64::from).collect();
    let a = Dataset::build(
        &spec(),
        1,
        &[device("s/a", &values), device("s/b", &values)],
    )
    .unwrap();
    let b = Dataset::build(
        &spec(),
        1,
        &[device("s/b", &values), device("s/a", &values)],
    )
    .unwrap();
    assert_eq!(
        a.content_sha256, b.content_sha256,
        "device order must not matter"
    );
    let mut changed = values.clone();
    changed[7] += 0.5;
    let c = Dataset::build(
        &spec(),
        1,
        &[device("s/a", &changed), device("s/b", &values)],
    )
    .unwrap();
    assert_ne!(a.content_sha256, c.content_sha256);
}

proptest! {
    /// No label of the training part lies at or after the holdout's first bin.
    #[test]
    fn the_split_never_leaks(len in 120usize..400, horizon in 1u32..12, share in 0.1f64..0.5) {
        let values: Vec<f64> = (0..len).map(|i| (i % 17) as f64).collect();
        let dataset = Dataset::build(&spec(), horizon, &[device("s/a", &values), device("s/b", &values)]).unwrap();
        let split = dataset.split(share, 1, 1).unwrap();
        let cutoff = split.cutoff.timestamp();
        let horizon_secs = i64::from(horizon) * dataset.interval_secs;
        for i in &split.train {
            prop_assert!(dataset.ts[*i] + horizon_secs < cutoff);
        }
        for i in &split.holdout {
            prop_assert!(dataset.ts[*i] >= cutoff);
        }
    }
}
