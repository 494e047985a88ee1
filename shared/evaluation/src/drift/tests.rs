use edgeops_contracts::monitoring::FeatureReference;

use super::testing::window_of;
use super::*;

/// Ten equal bins over 0..100 (edges 10, 20, ..., 90), mean 50, std 28.9.
fn deciles() -> FeatureReference {
    FeatureReference {
        name: "co2_ppm".into(),
        edges: (1..10).map(|k| f64::from(k) * 10.0).collect(),
        shares: vec![0.1; 10],
        min: 0.0,
        max: 100.0,
        mean: 50.0,
        std: 28.9,
        rows: 8_640,
    }
}

/// `per_bin` values in the middle of each of the ten bins.
fn even_values(per_bin: usize) -> Vec<f64> {
    (0..10)
        .flat_map(|bin| std::iter::repeat_n(f64::from(bin) * 10.0 + 5.0, per_bin))
        .collect()
}

fn verdict(reference: &FeatureReference, values: &[f64]) -> Option<FeatureDrift> {
    feature_drift(
        reference,
        &window_of(reference, values),
        &DriftThresholds::default(),
    )
}

#[test]
fn an_empty_window_gets_no_verdict_whatever_the_thresholds() {
    let anything = DriftThresholds {
        min_values: 0,
        ..DriftThresholds::default()
    };
    let empty = window_of(&deciles(), &[]);
    assert_eq!(feature_drift(&deciles(), &empty, &anything), None);
}

#[test]
fn a_window_below_min_values_gets_no_verdict() {
    let min = DriftThresholds::default().min_values as usize;
    let values = vec![55.0; min];
    assert_eq!(verdict(&deciles(), &values[1..]), None);
    let at_min = verdict(&deciles(), &values).unwrap();
    assert_eq!((at_min.values, at_min.reference_rows), (min as u64, 8_640));
}

#[test]
fn a_window_counted_on_other_bins_gets_no_verdict() {
    let mut window = window_of(&deciles(), &even_values(30));
    window.counts.push(0);
    assert_eq!(
        feature_drift(&deciles(), &window, &DriftThresholds::default()),
        None
    );
}

#[test]
fn values_spread_like_the_reference_have_not_drifted() {
    let drift = verdict(&deciles(), &even_values(30)).unwrap();
    assert_eq!(drift.feature, "co2_ppm");
    assert!(drift.psi.abs() < 1e-12, "{}", drift.psi);
    assert!(drift.wasserstein.abs() < 1e-12, "{}", drift.wasserstein);
    assert!(!drift.drifted);
}

#[test]
fn psi_is_the_sum_over_bins_of_share_difference_times_log_ratio() {
    let halves = FeatureReference {
        edges: vec![50.0],
        shares: vec![0.5, 0.5],
        ..deciles()
    };
    let values: Vec<f64> = [vec![25.0; 160], vec![75.0; 40]].concat();
    let drift = verdict(&halves, &values).unwrap();
    let expected = 0.3 * (0.8_f64 / 0.5).ln() - 0.3 * (0.2_f64 / 0.5).ln();
    assert!((drift.psi - expected).abs() < 1e-12, "{}", drift.psi);
    // 30 % of the mass moved from one midpoint (75) to the other (25): 15 units.
    assert!((drift.wasserstein - 15.0 / 28.9).abs() < 1e-12);
}

#[test]
fn values_all_beyond_the_training_range_have_drifted() {
    for outside in [100.5, 140.0, -0.5, -60.0] {
        let drift = verdict(&deciles(), &vec![outside; 300]).unwrap();
        assert!(drift.drifted, "{outside}: {drift:?}");
        assert!(drift.psi > 5.0, "{outside}: {}", drift.psi);
        let mean_shift = (outside - 50.0_f64).abs() / 28.9;
        assert!(drift.wasserstein >= mean_shift - 1e-12);
    }
}

#[test]
fn a_moved_shape_within_half_a_std_is_not_drifted() {
    // Every other bin's values moved up into the next bin: PSI is large (half the bins are
    // empty), but half the values moved by 10 units, a sixth of a standard deviation.
    let values: Vec<f64> = [15.0, 35.0, 55.0, 75.0, 95.0]
        .iter()
        .flat_map(|v| std::iter::repeat_n(*v, 60))
        .collect();
    let drift = verdict(&deciles(), &values).unwrap();
    assert!(drift.psi > 0.25, "{}", drift.psi);
    assert!(
        (drift.wasserstein - 5.0 / 28.9).abs() < 1e-12,
        "{}",
        drift.wasserstein
    );
    assert!(!drift.drifted);
}

#[test]
fn a_constant_reference_flags_any_other_value_and_only_that() {
    let constant = FeatureReference {
        edges: vec![],
        shares: vec![1.0],
        min: 3.0,
        max: 3.0,
        mean: 3.0,
        std: 0.0,
        ..deciles()
    };
    let same = verdict(&constant, &vec![3.0; 250]).unwrap();
    assert!(!same.drifted && same.psi == 0.0 && same.wasserstein == 0.0);
    let other = verdict(&constant, &vec![3.5; 250]).unwrap();
    assert!(other.drifted, "{other:?}");
    assert!(other.wasserstein.is_finite());
}

#[test]
fn windows_combine_by_adding_their_counts_and_sums() {
    let (a, b) = (even_values(10), vec![95.0, 101.0, -2.0]);
    let parts = [window_of(&deciles(), &a), window_of(&deciles(), &b)];
    let whole = window_of(&deciles(), &[a, b].concat());
    assert_eq!(combined(&parts), Some(whole));
    assert_eq!(combined(&[]), None);
    let mut other_bins = parts[1].clone();
    other_bins.counts.pop();
    assert_eq!(combined(&[parts[0].clone(), other_bins]), None);
}

#[test]
fn thresholds_and_verdicts_travel_as_json() {
    let drift = verdict(&deciles(), &even_values(30)).unwrap();
    let read: FeatureDrift = serde_json::from_str(&serde_json::to_string(&drift).unwrap()).unwrap();
    assert_eq!(read, drift);
    let thresholds = DriftThresholds::default();
    let read: DriftThresholds =
        serde_json::from_str(&serde_json::to_string(&thresholds).unwrap()).unwrap();
    assert_eq!(read, thresholds);
}
