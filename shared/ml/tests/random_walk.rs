//! On a random walk the best forecast is the last value: no candidate may claim skill there.

// Test code: a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Utc};
use edgeops_features::{FeatureSpec, compute_rows};
use edgeops_ml::{Dataset, DeviceRows, TrainConfig, train};
use std::collections::BTreeMap;

/// xorshift64*: a seeded, dependency-free source of steps.
fn steps(seed: u64, n: usize) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let unit =
                (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
            (unit - 0.5) * 40.0
        })
        .collect()
}

#[test]
fn nothing_beats_persistence_on_a_random_walk() {
    let spec = FeatureSpec::parking_occupancy();
    let start = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
    let mut level = 5_000.0;
    let series: Vec<(DateTime<Utc>, f64)> = steps(42, 6_000)
        .into_iter()
        .enumerate()
        .map(|(i, step)| {
            level += step;
            (start + chrono::Duration::seconds(1800 * i as i64), level)
        })
        .collect();
    let samples = BTreeMap::from([("occupancy_count".to_owned(), series)]);
    let rows = compute_rows(&spec, &samples, None);
    let device = DeviceRows {
        device: "walk/w1".into(),
        rows,
    };
    let dataset = Dataset::build(&spec, 1, &[device]).unwrap();
    let (report, _) = train(&dataset, &TrainConfig::default()).unwrap();
    for candidate in &report.candidates {
        eprintln!(
            "{}: skill {:.4}",
            candidate.name, candidate.skill_vs_persistence
        );
        assert!(
            candidate.skill_vs_persistence < edgeops_ml::MIN_SKILL,
            "{} claims {:.2}% skill on a random walk",
            candidate.name,
            candidate.skill_vs_persistence * 100.0
        );
    }
}
