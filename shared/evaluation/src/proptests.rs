//! Properties of the pairing and the rule, over arbitrary samples, forecasts and errors.

use chrono::{DateTime, TimeZone, Utc};
use edgeops_features::FeatureSpec;
use proptest::prelude::*;

use crate::{Comparison, Forecast, Outcome, Pair, Pairing, Rule, decide, pair_device};

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_767_225_600 + secs, 0).single().unwrap()
}

fn pairs(errors: &[(f64, f64)], horizon: u32) -> Vec<Pair> {
    errors
        .iter()
        .enumerate()
        .map(|(i, (c, b))| Pair {
            origin_bin: i as i64,
            target_at: at(i as i64 * 300),
            horizon_bins: horizon,
            actual: 0.0,
            candidate: *c,
            baseline: *b,
        })
        .collect()
}

fn one_device(pairs: Vec<Pair>) -> Comparison {
    Comparison::of(&[Pairing {
        pairs,
        ..Pairing::default()
    }])
}

proptest! {
    /// Too few judged forecasts never pass, however good they look.
    #[test]
    fn too_few_never_pass(
        errors in proptest::collection::vec((-50.0f64..50.0, -50.0f64..50.0), 0..30),
        min in 30u64..100,
    ) {
        let c = one_device(pairs(&errors, 6));
        let d = decide(&c, &Rule { min_forecasts: min, max_ratio: 1.05 });
        prop_assert_eq!(d.outcome, Outcome::Undecided);
    }

    /// A candidate that forecasts exactly what persistence does is never failed.
    #[test]
    fn persistence_itself_never_fails(
        errors in proptest::collection::vec(-50.0f64..50.0, 1..300),
        horizon in 1u32..13,
    ) {
        let same: Vec<(f64, f64)> = errors.iter().map(|e| (*e, *e)).collect();
        let c = one_device(pairs(&same, horizon));
        let d = decide(&c, &Rule { min_forecasts: 1, max_ratio: 1.05 });
        prop_assert_ne!(d.outcome, Outcome::Fail);
        prop_assert!((c.ratio() - 1.0).abs() < 1e-9 || c.baseline_mse == 0.0);
    }

    /// The verdict does not depend on the unit: ppm or ppb, the same decision.
    #[test]
    fn scaling_the_errors_keeps_the_outcome(
        errors in proptest::collection::vec((-50.0f64..50.0, -50.0f64..50.0), 30..200),
        scale in 0.01f64..100.0,
        horizon in 1u32..13,
    ) {
        let rule = Rule { min_forecasts: 30, max_ratio: 1.05 };
        let scaled: Vec<(f64, f64)> = errors.iter().map(|(c, b)| (c * scale, b * scale)).collect();
        let before = decide(&one_device(pairs(&errors, horizon)), &rule).outcome;
        let after = decide(&one_device(pairs(&scaled, horizon)), &rule).outcome;
        prop_assert_eq!(before, after);
    }

    /// The standard error is a real number for any weight of persistence's errors (the
    /// Newey–West sums are positive semi-definite).
    #[test]
    fn standard_errors_are_never_negative_or_nan(
        errors in proptest::collection::vec((-50.0f64..50.0, -50.0f64..50.0), 1..200),
        gaps in proptest::collection::vec(1i64..4, 200),
        horizon in 1u32..13,
        theta in 0.0f64..3.0,
    ) {
        let mut ps = pairs(&errors, horizon);
        let mut bin = 0;
        for (p, gap) in ps.iter_mut().zip(&gaps) {
            bin += gap;
            p.origin_bin = bin;
        }
        let c = one_device(ps);
        let (_, se) = c.difference(theta);
        prop_assert!(se >= 0.0 && se.is_finite());
        prop_assert!(c.lrv_cc >= -1e-6 && c.lrv_bb >= -1e-6);
    }

    /// Every forecast is judged, pending or unusable, once per origin; a judged one's target
    /// bin is closed by a later sample, and its actual and baseline are bin values.
    #[test]
    fn pairing_accounts_for_every_origin_and_judges_closed_bins_only(
        samples in proptest::collection::vec((0i64..40_000, 400.0f64..900.0), 0..120),
        forecasts in proptest::collection::vec((0i64..140, 1i64..13, -1i64..2, 300.0f64..1000.0), 0..60),
    ) {
        let spec = FeatureSpec::indoor_air();
        let mut points: Vec<(DateTime<Utc>, f64)> = samples.iter().map(|(s, v)| (at(*s), *v)).collect();
        points.sort_by_key(|(t, _)| *t);
        points.dedup_by_key(|(t, _)| *t);
        let forecasts: Vec<Forecast> = forecasts
            .iter()
            .map(|(o, h, skew, v)| Forecast {
                origin: at(o * 300 + skew * 7),
                target: at((o + h) * 300),
                value: *v,
            })
            .collect();
        let pairing = pair_device(&spec, &points, &forecasts);
        let origins: std::collections::BTreeSet<_> = forecasts.iter().map(|f| f.origin).collect();
        prop_assert_eq!(
            pairing.pairs.len() as u64 + pairing.pending + pairing.unusable,
            origins.len() as u64
        );
        let latest = points.iter().map(|(t, _)| *t).max();
        let values = edgeops_features::bin_values(&spec, &spec.target, &points);
        for pair in &pairing.pairs {
            prop_assert!(latest >= Some(pair.target_at + chrono::Duration::seconds(300)));
            let target = pair.target_at.timestamp();
            prop_assert_eq!(values.get(&target).map(|v| v.0), Some(pair.actual));
            let origin = pair.origin_bin * 300;
            prop_assert_eq!(values.get(&origin).map(|v| v.0), Some(pair.baseline));
        }
    }
}
