use proptest::prelude::*;

use super::*;

/// Values with many ties (a small grid) or none (continuous), and some missing.
fn values() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        prop::collection::vec((0u8..6).prop_map(f64::from), 1..300),
        prop::collection::vec(-1e6..1e6f64, 1..300),
        prop::collection::vec(
            prop_oneof![9 => -50.0..50.0f64, 1 => Just(f64::NAN)],
            1..300
        ),
    ]
}

proptest! {
    #[test]
    fn shares_are_the_true_shares_under_the_bin_rule(values in values()) {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        prop_assume!(!finite.is_empty());
        let reference = feature_reference("x", values).unwrap();
        prop_assert_eq!(reference.shares.len(), reference.edges.len() + 1);
        let mut counts = vec![0usize; reference.shares.len()];
        for value in &finite {
            counts[reference.bin_of(*value)] += 1;
        }
        for (share, count) in reference.shares.iter().zip(&counts) {
            prop_assert_eq!(*share, *count as f64 / finite.len() as f64);
            prop_assert!(*count > 0, "no bin is empty");
        }
        prop_assert!((reference.shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        prop_assert_eq!(reference.rows, finite.len() as u64);
    }

    #[test]
    fn edges_ascend_strictly_inside_the_range(values in values()) {
        prop_assume!(values.iter().any(|v| v.is_finite()));
        let reference = feature_reference("x", values).unwrap();
        prop_assert!(reference.edges.len() < REFERENCE_QUANTILES);
        prop_assert!(reference.edges.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(reference.edges.iter().all(|e| reference.min <= *e && *e < reference.max));
        prop_assert!(reference.min <= reference.mean && reference.mean <= reference.max);
        prop_assert!(reference.std >= 0.0);
    }

    #[test]
    fn distinct_values_fill_each_decile_to_within_one_value(
        values in prop::collection::btree_set(-100_000i32..100_000, 20..400)
    ) {
        let n = values.len() as f64;
        let reference = feature_reference("x", values.iter().map(|v| f64::from(*v))).unwrap();
        prop_assert_eq!(reference.edges.len(), REFERENCE_QUANTILES - 1);
        for share in &reference.shares {
            prop_assert!((share - 0.1).abs() <= 1.0 / n + 1e-12, "share {share} of {n}");
        }
    }
}
