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
