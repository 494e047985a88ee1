use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, TimeZone, Utc};
use edgeops_contracts::{DeviceId, Reading, SiteId};
use proptest::prelude::*;

use super::*;
use crate::reduction::policy::MetricRule;

fn reading(secs: i64, metrics: &[(&str, f64)]) -> Reading {
    Reading {
        site: SiteId::parse("s1").unwrap(),
        device: DeviceId::parse("room-1").unwrap(),
        ts: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::seconds(secs),
        metrics: metrics.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
    }
}

fn policy(dead_band: f64) -> ReductionPolicy {
    ReductionPolicy {
        metrics: BTreeMap::new(),
        default_rule: MetricRule {
            dead_band,
            relative_band: 0.0,
            heartbeat_secs: 3600,
            alert_below: None,
            alert_above: Some(1500.0),
        },
        local_only: BTreeSet::from(["occupancy_count".to_owned()]),
        window_secs: 600,
        aggregate_min_count: 2,
        sample_one_in: 0,
    }
}

#[test]
fn a_flat_signal_travels_once_then_on_heartbeat() {
    let policy = policy(50.0);
    let mut reducer = Reducer::default();
    let kinds: Vec<_> = (0..=120)
        .map(|minute| {
            reducer
                .offer(&policy, &reading(minute * 60, &[("co2_ppm", 600.0)]))
                .forward
                .map(|(k, _)| k)
        })
        .collect();
    let forwarded: Vec<usize> = kinds
        .iter()
        .enumerate()
        .filter(|(_, k)| k.is_some())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        forwarded,
        vec![0, 60, 120],
        "first value, then one heartbeat an hour"
    );
}

#[test]
fn only_the_metrics_that_moved_travel() {
    let policy = policy(1.0);
    let mut reducer = Reducer::default();
    reducer.offer(
        &policy,
        &reading(0, &[("co2_ppm", 600.0), ("temperature_c", 21.0)]),
    );
    let (kind, forwarded) = reducer
        .offer(
            &policy,
            &reading(60, &[("co2_ppm", 700.0), ("temperature_c", 21.2)]),
        )
        .forward
        .unwrap();
    assert_eq!(kind, ForwardKind::Change);
    assert_eq!(
        forwarded.metrics.keys().collect::<Vec<_>>(),
        vec!["co2_ppm"]
    );
}

#[test]
fn an_anomaly_travels_whole_but_never_with_local_only_fields() {
    let policy = policy(1000.0);
    let mut reducer = Reducer::default();
    reducer.offer(
        &policy,
        &reading(
            0,
            &[
                ("co2_ppm", 600.0),
                ("temperature_c", 21.0),
                ("occupancy_count", 3.0),
            ],
        ),
    );
    let (kind, forwarded) = reducer
        .offer(
            &policy,
            &reading(
                60,
                &[
                    ("co2_ppm", 1600.0),
                    ("temperature_c", 21.0),
                    ("occupancy_count", 9.0),
                ],
            ),
        )
        .forward
        .unwrap();
    assert_eq!(kind, ForwardKind::Anomaly);
    assert_eq!(
        forwarded.metrics.keys().collect::<Vec<_>>(),
        vec!["co2_ppm", "temperature_c"]
    );
}

#[test]
fn one_in_n_readings_is_a_whole_sample() {
    let mut policy = policy(1e9);
    policy.sample_one_in = 10;
    let mut reducer = Reducer::default();
    let samples = (0..100)
        .filter_map(|i| {
            reducer
                .offer(&policy, &reading(i * 60, &[("co2_ppm", 600.0)]))
                .forward
        })
        .filter(|(kind, _)| *kind == ForwardKind::Sample)
        .count();
    assert_eq!(samples, 10);
}

#[test]
fn no_summary_is_sent_for_a_window_whose_values_all_travelled() {
    let policy = policy(0.0);
    let mut reducer = Reducer::default();
    let aggregates: usize = (0..3_000)
        .map(|i| {
            reducer
                .offer(
                    &policy,
                    &reading(i, &[("co2_ppm", 500.0 + (i % 2) as f64 * 100.0)]),
                )
                .aggregates
                .len()
        })
        .sum();
    assert_eq!(
        aggregates, 0,
        "every value moved beyond the band, so the raw rows say it all"
    );
}

#[test]
fn forward_all_forwards_even_an_unchanged_value() {
    let policy = ReductionPolicy::forward_all();
    let mut reducer = Reducer::default();
    let forwarded = (0..50)
        .filter(|i| {
            reducer
                .offer(&policy, &reading(i * 60, &[("co2_ppm", 600.0)]))
                .forward
                .is_some()
        })
        .count();
    assert_eq!(forwarded, 50);
}

#[test]
fn a_relative_band_scales_with_the_value() {
    let mut policy = policy(0.5);
    policy.default_rule.relative_band = 0.1;
    let mut reducer = Reducer::default();
    let travels = |reducer: &mut Reducer, t, v| {
        reducer
            .offer(&policy, &reading(t, &[("occupancy_count_x", v)]))
            .forward
            .is_some()
    };
    assert!(travels(&mut reducer, 0, 500.0));
    assert!(
        !travels(&mut reducer, 60, 540.0),
        "40 cars is within 10 % of 500"
    );
    assert!(travels(&mut reducer, 120, 560.0), "60 cars is not");
}

#[test]
fn a_policy_file_with_a_typo_is_refused() {
    let err = ReductionPolicy::from_json(r#"{"window_secs":60,"sample_one_in":0,"dead_bnad":1}"#)
        .unwrap_err();
    assert!(err.to_string().contains("dead_bnad"), "{err}");
}

proptest! {
    /// Dead-band never drops a change larger than its band: every raw value is within the band
    /// of the last forwarded value for that metric.
    #[test]
    fn no_change_beyond_the_band_is_lost(values in proptest::collection::vec(0.0f64..2000.0, 1..200), band in 0.0f64..100.0) {
        let mut policy = policy(band);
        policy.default_rule.alert_above = None;
        let mut reducer = Reducer::default();
        let mut last = None;
        for (i, value) in values.iter().enumerate() {
            if let Some((_, forwarded)) = reducer.offer(&policy, &reading(i as i64, &[("co2_ppm", *value)])).forward {
                last = forwarded.metrics.get("co2_ppm").copied().or(last);
            }
            let held = last.expect("the first value always travels");
            prop_assert!((value - held).abs() <= band, "raw {value} vs forwarded {held}, band {band}");
        }
    }

    /// Aggregates equal a naive recomputation over the same readings.
    #[test]
    fn aggregates_equal_a_naive_recomputation(values in proptest::collection::vec((0i64..5_000, 0.0f64..1000.0), 1..300)) {
        // Only the first value travels; every window of two or more values is summarised.
        let mut policy = policy(1e9);
        policy.default_rule.heartbeat_secs = i64::MAX;
        let mut sorted = values.clone();
        sorted.sort_by_key(|(t, _)| *t);
        let mut reducer = Reducer::default();
        let mut got = Vec::new();
        for (t, v) in &sorted {
            got.extend(reducer.offer(&policy, &reading(*t, &[("co2_ppm", *v)])).aggregates);
        }
        let mut windows: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
        for (t, v) in &sorted {
            windows.entry(t.div_euclid(600) * 600).or_default().push(*v);
        }
        let closed: Vec<_> = windows.iter().take(windows.len() - 1).filter(|(_, vals)| vals.len() >= 2).collect();
        prop_assert_eq!(got.len(), closed.len(), "every closed window of two or more values is summarised");
        for (aggregate, (_, vals)) in got.iter().zip(closed) {
            let mean = vals.iter().sum::<f64>() / vals.len() as f64;
            prop_assert_eq!(aggregate.count, vals.len() as u64);
            prop_assert_eq!(aggregate.min, vals.iter().copied().fold(f64::INFINITY, f64::min));
            prop_assert_eq!(aggregate.max, vals.iter().copied().fold(f64::NEG_INFINITY, f64::max));
            prop_assert!((aggregate.mean - mean).abs() < 1e-9 * mean.abs().max(1.0));
        }
    }

    /// Local-only metrics never travel, whatever the readings; anomalies always do.
    #[test]
    fn local_only_never_travels_and_anomalies_always_do(values in proptest::collection::vec((0.0f64..2000.0, 0.0f64..50.0), 1..100)) {
        let policy = policy(10.0);
        let mut reducer = Reducer::default();
        for (i, (co2, occupants)) in values.iter().enumerate() {
            let out = reducer.offer(&policy, &reading(i as i64 * 60, &[("co2_ppm", *co2), ("occupancy_count", *occupants)]));
            if let Some((_, forwarded)) = &out.forward {
                prop_assert!(!forwarded.metrics.contains_key("occupancy_count"));
            }
            for aggregate in &out.aggregates {
                prop_assert_ne!(aggregate.metric.as_str(), "occupancy_count");
            }
            if *co2 > 1500.0 {
                prop_assert!(matches!(out.forward, Some((ForwardKind::Anomaly, _))));
            }
        }
    }
}
