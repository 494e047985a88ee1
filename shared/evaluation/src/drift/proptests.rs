//! Properties of the drift verdict over arbitrary references and windows.

use edgeops_contracts::monitoring::FeatureReference;
use edgeops_features::feature_reference;
use proptest::prelude::*;

use super::testing::window_of;
use super::*;

fn reference() -> impl Strategy<Value = FeatureReference> {
    prop_oneof![
        prop::collection::vec(-1_000.0..1_000.0f64, 1..400),
        prop::collection::vec((0u8..4).prop_map(f64::from), 1..400),
    ]
    .prop_map(|values| feature_reference("x", values).unwrap())
}

fn anything() -> DriftThresholds {
    DriftThresholds {
        min_values: 1,
        ..DriftThresholds::default()
    }
}

proptest! {
    #[test]
    fn the_figures_are_finite_and_not_negative(
        reference in reference(),
        live in prop::collection::vec(-3_000.0..3_000.0f64, 1..300),
    ) {
        let drift = feature_drift(&reference, &window_of(&reference, &live), &anything()).unwrap();
        prop_assert!(drift.psi.is_finite() && drift.psi >= -1e-12, "{}", drift.psi);
        prop_assert!(drift.wasserstein.is_finite() && drift.wasserstein >= 0.0);
        prop_assert_eq!(drift.values, live.len() as u64);
    }

    #[test]
    fn the_distance_is_at_least_the_shift_of_the_mean(
        reference in reference(),
        live in prop::collection::vec(-3_000.0..3_000.0f64, 1..300),
    ) {
        prop_assume!(reference.std > 0.0);
        let drift = feature_drift(&reference, &window_of(&reference, &live), &anything()).unwrap();
        let mean = live.iter().sum::<f64>() / live.len() as f64;
        let shift = (mean - reference.mean).abs() / reference.std;
        prop_assert!(drift.wasserstein >= shift * (1.0 - 1e-9), "{} < {shift}", drift.wasserstein);
    }

    #[test]
    fn the_training_values_themselves_have_not_drifted(
        values in prop::collection::vec(-1_000.0..1_000.0f64, 1..400),
    ) {
        let reference = feature_reference("x", values.clone()).unwrap();
        let drift = feature_drift(&reference, &window_of(&reference, &values), &anything()).unwrap();
        prop_assert!(drift.psi.abs() < 1e-9, "{}", drift.psi);
        prop_assert!(drift.wasserstein < 1e-6, "{}", drift.wasserstein);
        prop_assert!(!drift.drifted);
    }

    #[test]
    fn a_verdict_needs_min_values(
        reference in reference(),
        live in prop::collection::vec(-3_000.0..3_000.0f64, 0..300),
        min_values in 0u64..300,
    ) {
        let thresholds = DriftThresholds { min_values, ..DriftThresholds::default() };
        let drift = feature_drift(&reference, &window_of(&reference, &live), &thresholds);
        let expected = !live.is_empty() && live.len() as u64 >= min_values;
        prop_assert_eq!(drift.is_some(), expected);
    }
}
