use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

fn spec() -> FeatureSpec {
    FeatureSpec {
        name: "test".into(),
        version: 1,
        interval_secs: 300,
        metrics: vec!["co2_ppm".into(), "temperature_c".into()],
        target: "co2_ppm".into(),
        lags: vec![1, 3],
        rolling: vec![4],
        time_of_day: true,
        cross: vec![],
        max_gap_bins: 2,
        gap_fill: crate::spec::GapFill::Linear,
        hampel_half_window: 3,
        hampel_sigmas: 1e9, // tests of the row layout: no outlier rejection
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap()
}

fn samples(co2: &[f64], temp: &[f64]) -> BTreeMap<String, Vec<(DateTime<Utc>, f64)>> {
    let at = |i: usize| t0() + chrono::Duration::seconds(i as i64 * 300 + 10);
    BTreeMap::from([
        (
            "co2_ppm".to_owned(),
            co2.iter().enumerate().map(|(i, v)| (at(i), *v)).collect(),
        ),
        (
            "temperature_c".to_owned(),
            temp.iter().enumerate().map(|(i, v)| (at(i), *v)).collect(),
        ),
    ])
}

#[test]
fn rows_hold_lags_and_rolling_stats_in_name_order() {
    let co2: Vec<f64> = (0..10).map(|i| 500.0 + f64::from(i) * 10.0).collect();
    let temp = vec![20.0; 10];
    let rows = compute_rows(&spec(), &samples(&co2, &temp), None);
    assert_eq!(rows.len(), 7, "the first 3 bins lack a lag-3 value");
    let names = spec().names();
    let first = &rows[0];
    assert_eq!(first.values.len(), names.len());
    let get = |name: &str| first.values[names.iter().position(|n| n == name).unwrap()];
    assert_eq!(first.ts, t0() + chrono::Duration::seconds(900));
    assert_eq!(get("co2_ppm"), 530.0);
    assert_eq!(get("co2_ppm_lag1"), 520.0);
    assert_eq!(get("co2_ppm_lag3"), 500.0);
    assert_eq!(get("co2_ppm_mean4"), 515.0);
    assert_eq!(get("co2_ppm_min4"), 500.0);
    assert_eq!(get("co2_ppm_max4"), 530.0);
    assert_eq!(get("temperature_c_std4"), 0.0);
    assert!(
        (get("hour_sin")).abs() < 0.07,
        "00:15 is near the start of the day"
    );
}

#[test]
fn a_long_gap_breaks_rows_a_short_one_is_bridged_and_flagged() {
    let co2: Vec<f64> = (0..20).map(|i| 500.0 + f64::from(i)).collect();
    let temp = vec![20.0; 20];
    let mut s = samples(&co2, &temp);
    s.get_mut("co2_ppm").unwrap().retain(|(ts, _)| {
        let i = (*ts - t0()).num_seconds() / 300;
        i != 8 && !(13..17).contains(&i)
    });
    let rows = compute_rows(&spec(), &s, None);
    let bins: Vec<i64> = rows
        .iter()
        .map(|r| (r.ts - t0()).num_seconds() / 300)
        .collect();
    assert!(
        !bins.contains(&8),
        "as of its own close, a bin without a sample cannot be filled: no row"
    );
    let next = rows
        .iter()
        .find(|r| (r.ts - t0()).num_seconds() / 300 == 9)
        .expect("the next bin's row bridges the 1-bin gap in its history");
    assert!(next.interpolated);
    let lag1 = spec()
        .names()
        .iter()
        .position(|n| n == "co2_ppm_lag1")
        .unwrap();
    assert_eq!(next.values[lag1], 508.0, "bin 8 filled between 507 and 509");
    assert!(
        !bins.contains(&14) && !bins.contains(&19),
        "a 4-bin gap is not bridged, nor used as history"
    );
}

proptest! {
    /// Computing everything at once, or only the tail, gives the same tail rows.
    #[test]
    fn incremental_tail_equals_full_recompute(values in proptest::collection::vec(400.0f64..900.0, 10..60), cut in 0usize..40) {
        let temp = vec![21.0; values.len()];
        let all = compute_rows(&spec(), &samples(&values, &temp), None);
        let from = (t0() + chrono::Duration::seconds(cut as i64 * 300)).timestamp();
        let tail = compute_rows(&spec(), &samples(&values, &temp), Some(from));
        let expected: Vec<_> = all.into_iter().filter(|r| r.ts.timestamp() >= from).collect();
        prop_assert_eq!(tail, expected);
    }

    /// What the preprocessing service relies on: recomputing from a bin with only the samples
    /// from `load_margin_bins()` before it gives exactly the rows a full recompute gives there,
    /// whatever the gaps and outliers.
    #[test]
    fn a_recompute_from_the_load_margin_equals_the_full_recompute(
        values in proptest::collection::vec(prop_oneof![9 => (400.0f64..900.0).prop_map(Some), 1 => Just(None), 1 => Just(Some(5000.0))], 20..120),
        cut in 5usize..100,
        hold in any::<bool>(),
    ) {
        let mut spec = spec();
        spec.hampel_sigmas = 3.0;
        if hold {
            spec.gap_fill = crate::spec::GapFill::Hold;
            spec.max_gap_bins = 6;
        }
        let present: Vec<(usize, f64)> = values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i, v))).collect();
        let at = |i: usize| t0() + chrono::Duration::seconds(i as i64 * 300 + 10);
        let all: BTreeMap<String, Vec<(DateTime<Utc>, f64)>> = BTreeMap::from([
            ("co2_ppm".to_owned(), present.iter().map(|(i, v)| (at(*i), *v)).collect()),
            ("temperature_c".to_owned(), (0..values.len()).map(|i| (at(i), 21.0)).collect()),
        ]);
        let from = (t0() + chrono::Duration::seconds(cut as i64 * 300)).timestamp();
        let load_from = from - spec.load_margin_bins() as i64 * 300;
        let truncated: BTreeMap<String, Vec<(DateTime<Utc>, f64)>> = all
            .iter()
            .map(|(k, v)| (k.clone(), v.iter().filter(|(t, _)| t.timestamp() >= load_from).copied().collect()))
            .collect();
        let full: Vec<_> = compute_rows(&spec, &all, None).into_iter().filter(|r| r.ts.timestamp() >= from).collect();
        prop_assert_eq!(compute_rows(&spec, &truncated, Some(from)), full);
    }

    /// Rolling means equal a naive recomputation from the raw series.
    #[test]
    fn rolling_mean_equals_naive(values in proptest::collection::vec(400.0f64..900.0, 10..60)) {
        let temp = vec![21.0; values.len()];
        let rows = compute_rows(&spec(), &samples(&values, &temp), None);
        let idx = spec().names().iter().position(|n| n == "co2_ppm_mean4").unwrap();
        for row in rows {
            let i = ((row.ts - t0()).num_seconds() / 300) as usize;
            let naive = values[i - 3..=i].iter().sum::<f64>() / 4.0;
            prop_assert!((row.values[idx] - naive).abs() < 1e-9);
        }
    }
}
