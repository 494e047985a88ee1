use chrono::{DateTime, Utc};
use edgeops_features::{FeatureRow, FeatureSpec};

use super::*;
use crate::DeviceRows;

#[test]
fn the_training_reference_covers_every_input_in_order_from_the_given_rows_only() {
    let spec = FeatureSpec::parking_occupancy();
    let width = spec.names().len();
    let rows = (0..40)
        .map(|i| FeatureRow {
            ts: DateTime::<Utc>::from_timestamp(1_700_000_400 + 1800 * i, 0).unwrap(),
            values: (0..width).map(|c| (i * 10 + c as i64) as f64).collect(),
            interpolated: false,
        })
        .collect();
    let devices = [DeviceRows {
        device: "s/d".into(),
        rows,
    }];
    let dataset = Dataset::build(&spec, 1, &devices).unwrap();
    let first_half: Vec<usize> = (0..dataset.rows() / 2).collect();
    let reference = training_reference(&dataset, &first_half).unwrap();
    let names: Vec<&str> = reference.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, dataset.feature_names);
    for (column, feature) in reference.iter().enumerate() {
        assert_eq!(feature.rows, first_half.len() as u64);
        assert_eq!(feature.min, dataset.row(0)[column]);
        assert_eq!(feature.max, dataset.row(first_half.len() - 1)[column]);
    }
}
