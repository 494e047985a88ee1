use chrono::TimeZone;

use super::*;

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn sums(judged: u64, model_mse: f64, persistence_mse: f64) -> PairedErrorSums {
    PairedErrorSums {
        judged,
        unusable: 0,
        sum_c: model_mse * judged as f64,
        sum_b: persistence_mse * judged as f64,
        sum_d_sq: 0.0,
    }
}

fn judged(sums: &PairedErrorSums) -> Verdict {
    performance(sums, (t(0), t(360)), "persistence", &Levels::default())
}

#[test]
fn a_model_much_worse_than_persistence_alarms_with_its_skill_as_evidence() {
    let Verdict::Alarm(evidence) = judged(&sums(72, 150.0, 100.0)) else {
        panic!("skill -0.5 must alarm")
    };
    assert!((evidence[0].value + 0.5).abs() < 1e-9);
    assert_eq!(evidence[0].samples, 72);
    assert_eq!(evidence[0].threshold, -0.25);
}

#[test]
fn between_the_levels_and_on_too_few_forecasts_nothing_is_said() {
    assert_eq!(judged(&sums(72, 115.0, 100.0)), Verdict::Unsure);
    assert_eq!(judged(&sums(10, 500.0, 100.0)), Verdict::Unsure);
    assert_eq!(judged(&sums(72, 0.0, 0.0)), Verdict::Unsure);
    assert!(matches!(judged(&sums(72, 80.0, 100.0)), Verdict::Clear(_)));
}

#[test]
fn silence_is_measured_on_the_sites_clock() {
    let levels = Levels::default();
    assert!(matches!(silence(t(0), t(10), &levels), Verdict::Clear(_)));
    let Verdict::Alarm(evidence) = silence(t(0), t(40), &levels) else {
        panic!("40 minutes without a reading")
    };
    assert_eq!(evidence[0].value, 2_400.0);
}

#[test]
fn a_site_is_offline_once_its_summaries_stop_for_longer_than_allowed() {
    let levels = Levels::default();
    assert!(matches!(site_link(t(0), t(60), &levels), Verdict::Clear(_)));
    assert!(matches!(
        site_link(t(0), t(181), &levels),
        Verdict::Alarm(_)
    ));
}

fn reference() -> FeatureReference {
    // Deciles of a uniform feature on [0, 100].
    FeatureReference {
        name: "co2_lag_1".into(),
        edges: (1..10).map(|i| f64::from(i) * 10.0).collect(),
        shares: vec![0.1; 10],
        min: 0.0,
        max: 100.0,
        mean: 50.0,
        std: 28.9,
        rows: 8_000,
    }
}

/// An hour of 12 values per bin spread like the reference, shifted by `offset`.
fn hour_of_values(offset: f64) -> FeatureWindow {
    let reference = reference();
    let mut window = FeatureWindow {
        name: reference.name.clone(),
        counts: vec![0; 10],
        below_range: 0,
        above_range: 0,
        sum: 0.0,
        sum_sq: 0.0,
    };
    for i in 0..120 {
        let value = f64::from(i) / 120.0 * 100.0 + 0.4 + offset;
        window.counts[reference.bin_of(value)] += 1;
        if value > reference.max {
            window.above_range += 1;
        }
        window.sum += value;
        window.sum_sq += value * value;
    }
    window
}

fn judge_drift(hours: usize, offset: f64) -> Verdict {
    let live = BTreeMap::from([("co2_lag_1".to_owned(), vec![hour_of_values(offset); hours])]);
    let this_hour = [hour_of_values(offset)];
    drift(
        &[reference()],
        &live,
        [
            &this_hour[..usize::from(hours > 1)],
            &this_hour[..usize::from(hours > 1)],
        ],
        (t(0), t(60 * hours as i64)),
        "co2-room v3",
        &Levels::default().drift,
    )
    .0
}

#[test]
fn inputs_like_the_training_data_clear_and_shifted_ones_alarm_naming_the_feature() {
    assert!(matches!(judge_drift(24, 0.0), Verdict::Clear(_)));
    let Verdict::Alarm(evidence) = judge_drift(24, 60.0) else {
        panic!("a shift of two reference stds must alarm")
    };
    assert_eq!(evidence[0].features, vec!["co2_lag_1".to_owned()]);
    assert_eq!(evidence[0].statistic, "psi");
    assert_eq!(evidence[1].statistic, "wasserstein_std");
    assert!(evidence[1].value > 1.5, "{evidence:?}");
}

#[test]
fn too_few_inputs_give_no_drift_verdict() {
    assert_eq!(judge_drift(1, 60.0), Verdict::Unsure);
}

#[test]
fn two_hours_mostly_outside_the_training_range_alarm_on_their_own_one_does_not() {
    let (far, near) = (hour_of_values(150.0), hour_of_values(0.0));
    let judge = |before: &FeatureWindow, latest: &FeatureWindow| {
        drift(
            &[reference()],
            &BTreeMap::from([("co2_lag_1".to_owned(), vec![before.clone(), latest.clone()])]),
            [std::slice::from_ref(before), std::slice::from_ref(latest)],
            (t(0), t(120)),
            "co2-room v3",
            // Too few values for a day's verdict: only the range rule speaks.
            &DriftThresholds {
                min_values: 10_000,
                ..DriftThresholds::default()
            },
        )
        .0
    };
    assert_eq!(judge(&near, &far), Verdict::Unsure, "one hour out of range");
    assert_eq!(judge(&far, &near), Verdict::Unsure, "back in range");
    let verdict = judge(&far, &far);
    let Verdict::Alarm(evidence) = verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(evidence[0].statistic, "outside_training_range_share");
    assert_eq!(evidence[0].value, 1.0);
    assert_eq!(evidence[0].features, vec!["co2_lag_1".to_owned()]);
}

#[test]
fn a_stuck_metric_alarms_and_a_window_without_one_clears() {
    let Verdict::Alarm(evidence) = stuck(&["co2_ppm".to_owned()], (t(0), t(60)), 60) else {
        panic!("stuck")
    };
    assert_eq!(evidence[0].features, vec!["co2_ppm".to_owned()]);
    assert!(matches!(stuck(&[], (t(60), t(120)), 60), Verdict::Clear(_)));
}

#[test]
fn dead_letters_jump_against_the_day_before_not_against_a_fixed_count() {
    let levels = Levels::default();
    let span = (t(0), t(60));
    assert!(matches!(
        dead_letter_jump(25, 0.2, span, &levels),
        Verdict::Alarm(_)
    ));
    assert!(
        matches!(dead_letter_jump(25, 30.0, span, &levels), Verdict::Clear(_)),
        "25 in an hour is usual for a reason that sees 30"
    );
    assert_eq!(
        dead_letter_jump(10, 0.2, span, &levels),
        Verdict::Unsure,
        "between the levels"
    );
    assert!(matches!(
        dead_letter_jump(1, 0.2, span, &levels),
        Verdict::Clear(_)
    ));
}
