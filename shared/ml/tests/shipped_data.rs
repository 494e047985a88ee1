//! Training on the shipped Beijing PM2.5 data (CC BY 4.0, see data/README.md), in-process: the
//! feature crate's rows, the candidates, and their scores against persistence.

// Test code: a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use edgeops_features::{FeatureSpec, compute_rows};
use edgeops_ml::{Dataset, DeviceRows, TrainConfig, train};

type Samples = BTreeMap<String, Vec<(DateTime<Utc>, f64)>>;

/// The Beijing file's columns as the replayer maps them (local time is UTC+8).
fn beijing_samples() -> Samples {
    let csv = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/hourly_beijing_pm.csv"
    ))
    .unwrap();
    let columns = [
        (5, "pm25_ugm3"),
        (6, "dew_point_c"),
        (7, "temperature_c"),
        (8, "pressure_hpa"),
        (10, "wind_speed_ms"),
    ];
    let mut samples = Samples::new();
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let field = |i: usize| cells[i].parse::<u32>().unwrap();
        let local = NaiveDate::from_ymd_opt(field(1) as i32, field(2), field(3))
            .unwrap()
            .and_hms_opt(field(4), 0, 0)
            .unwrap();
        let ts = local.and_utc() - chrono::Duration::hours(8);
        for (column, metric) in columns {
            if let Ok(value) = cells[column].parse::<f64>() {
                samples.entry(metric.into()).or_default().push((ts, value));
            }
        }
    }
    samples
}

#[test]
fn beijing_six_hours_ahead_beats_persistence_by_more_than_ten_percent() {
    let spec = FeatureSpec::outdoor_pm25();
    let rows = compute_rows(&spec, &beijing_samples(), None);
    let device = DeviceRows {
        device: "beijing/us-embassy".into(),
        rows,
    };
    let dataset = Dataset::build(&spec, 6, &[device]).unwrap();
    let (report, _model) = train(&dataset, &TrainConfig::default()).unwrap();
    eprintln!(
        "{}",
        serde_json::to_string_pretty(&report.candidates).unwrap()
    );
    eprintln!(
        "rows {} / {}, persistence {:?}, seasonal {:?}",
        report.train_rows, report.holdout_rows, report.persistence, report.seasonal_naive
    );
    let winner = report.winner();
    assert!(
        winner.skill_vs_persistence >= 0.10,
        "{} removes {:.1}% of persistence's RMSE",
        winner.name,
        winner.skill_vs_persistence * 100.0
    );
}

/// The winner's ONNX graph, run by ONNX Runtime, forecasts what the Rust model does.
#[test]
fn the_exported_beijing_model_runs_in_onnx_runtime_like_the_rust_model() {
    let spec = FeatureSpec::outdoor_pm25();
    let rows = compute_rows(&spec, &beijing_samples(), None);
    let device = DeviceRows {
        device: "beijing/us-embassy".into(),
        rows,
    };
    let dataset = Dataset::build(&spec, 6, &[device]).unwrap();
    let (_report, model) = train(&dataset, &TrainConfig::default()).unwrap();
    let graph =
        edgeops_ml::export::to_graph(&model, &dataset.feature_names, vec![], String::new(), 1);
    let session = edgeops_inference::Model::load(&edgeops_onnx::encode(&graph).unwrap()).unwrap();
    let mut worst: f64 = 0.0;
    for i in (0..dataset.rows()).step_by(7) {
        let row = dataset.row(i);
        let row32: Vec<f32> = row.iter().map(|v| *v as f32).collect();
        let onnx = f64::from(session.predict_one(&row32).unwrap());
        let rust = model.predict(row);
        worst = worst.max((onnx - rust).abs() / (1.0 + rust.abs()));
    }
    assert!(worst < 1e-4, "relative difference {worst}");
}
