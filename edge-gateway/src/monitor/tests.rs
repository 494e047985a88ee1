//! The pure core: windows, the emission rule, paired sums, stuck metrics, features and exact
//! restarts.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use edgeops_contracts::deployment::{Forecast, ForecastKind};
use edgeops_contracts::monitoring::{FeatureReference, WindowSummary};
use edgeops_contracts::{DeviceId, Reading, SiteId};
use edgeops_evaluation::Forecast as Judged;
use edgeops_features::FeatureSpec;

use super::device::{ModelInfo, paired_sums};
use super::features::feature_windows;
use super::summaries::{Checkpoint, Summaries};
use super::window::{EmissionRule, at, margin_secs, settle_secs, window_of};

const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z, a window start

fn site() -> SiteId {
    SiteId::parse("s1").unwrap()
}

fn device() -> DeviceId {
    DeviceId::parse("room-1").unwrap()
}

fn spec() -> FeatureSpec {
    FeatureSpec::indoor_air()
}

fn co2(minute: i64) -> f64 {
    600.0 + 50.0 * (minute as f64 / 17.0).sin()
}

fn reading(minute: i64, value: f64) -> Reading {
    Reading {
        site: site(),
        device: device(),
        ts: at(T0 + minute * 60),
        metrics: BTreeMap::from([
            ("co2_ppm".to_owned(), value),
            ("temperature_c".into(), 21.0),
        ]),
    }
}

fn info(reference: Vec<FeatureReference>) -> Arc<ModelInfo> {
    Arc::new(ModelInfo {
        model: "co2-room".into(),
        version: 1,
        spec: spec(),
        horizon_bins: 12,
        reference,
    })
}

/// The model's forecast made from the bin of `minute` (12 bins ahead), with a two-value row.
fn forecast(minute: i64) -> Forecast {
    let origin = T0 + (minute - minute.rem_euclid(5)) * 60;
    Forecast {
        ts: at(origin),
        valid_at: at(origin + 12 * 300),
        site: site(),
        device: device(),
        metric: "co2_ppm".into(),
        model: Some("co2-room".into()),
        version: Some(1),
        horizon_bins: 12,
        value: co2(minute) + 7.0,
        kind: ForecastKind::Model,
        features: Some(vec![co2(minute) as f32, 21.0]),
    }
}

fn fresh() -> Summaries {
    resumed(Checkpoint::default())
}

fn resumed(checkpoint: Checkpoint) -> Summaries {
    resumed_with(checkpoint, 3_600)
}

fn resumed_with(checkpoint: Checkpoint, window_secs: i64) -> Summaries {
    let rule = EmissionRule {
        settle_secs: settle_secs(&spec()),
        wait_for_forecasts: true,
        window_secs,
    };
    let mut summaries = Summaries::resume(
        site(),
        rule,
        margin_secs(&spec(), 12),
        ["co2_ppm".to_owned()].into(),
        checkpoint,
    );
    summaries.learn("co2_ppm", margin_secs(&spec(), 12), settle_secs(&spec()));
    summaries
}

/// Feeds minute `m`'s reading (raw sequence `m + 1`) and forecast (sequence `m + 1`), then
/// takes what is due.
fn feed(summaries: &mut Summaries, m: i64, model: &Arc<ModelInfo>) -> Vec<WindowSummary> {
    let sequence = u64::try_from(m + 1).unwrap();
    summaries.observe_reading(sequence, &reading(m, co2(m)));
    summaries.observe_forecast(sequence, &forecast(m), Some(model.clone()));
    summaries.take_due(false)
}

#[test]
fn windows_are_hours_and_the_watermark_waits_for_settling_and_forecasts() {
    assert_eq!(window_of(T0 + 3_599, 3_600), T0);
    assert_eq!(window_of(T0 - 1, 3_600), T0 - 3_600);
    let rule = EmissionRule {
        settle_secs: 1_200,
        wait_for_forecasts: true,
        window_secs: 3_600,
    };
    assert_eq!(rule.watermark(None, Some(T0), true), None);
    assert_eq!(rule.watermark(Some(T0), Some(T0), false), Some(T0 - 1_200));
    assert_eq!(
        rule.watermark(Some(T0), Some(T0 - 5_000), false),
        Some(T0 - 5_000)
    );
    assert_eq!(rule.watermark(Some(T0), None, true), Some(T0 - 1_200));
    assert_eq!(rule.watermark(Some(T0), None, false), None);
    assert_eq!(window_of(i64::MIN, 3_600), i64::MIN);
    let without = EmissionRule {
        wait_for_forecasts: false,
        ..rule
    };
    assert_eq!(without.watermark(Some(T0), None, false), Some(T0 - 1_200));
    // Indoor air: the bin plus the Hampel half window (3 bins of 5 min).
    assert_eq!(settle_secs(&spec()), 20 * 60);
}

#[test]
fn a_window_is_emitted_once_when_its_last_target_bin_has_settled_with_the_one_paired_error() {
    let model = info(Vec::new());
    let mut summaries = fresh();
    let mut emitted = Vec::new();
    let mut emitted_at = BTreeMap::new();
    for m in 0..200 {
        for summary in feed(&mut summaries, m, &model) {
            emitted_at.insert(summary.window_start.timestamp(), m);
            emitted.push(summary);
        }
    }
    let starts: Vec<i64> = emitted.iter().map(|s| s.window_start.timestamp()).collect();
    assert_eq!(starts, [T0, T0 + 3_600], "each window once, in order");
    // Window 1 ends at minute 120; it is due when the site clock reaches 120 + 20 minutes.
    assert_eq!(emitted_at[&(T0 + 3_600)], 140);
    let second = &emitted[1];
    assert_eq!(second.readings, 60);
    assert_eq!(second.last_reading_at, Some(at(T0 + 119 * 60)));
    assert!(
        second.stuck_metrics == ["temperature_c"],
        "{:?}",
        second.stuck_metrics
    );
    // Its targets are the forecasts from origins 0..60 minutes, one per 5-minute bin, judged
    // like the rollout gate on every sample.
    let samples: Vec<(DateTime<Utc>, f64)> = (0..200).map(|m| (at(T0 + m * 60), co2(m))).collect();
    let forecasts: Vec<Judged> = (0..60)
        .step_by(5)
        .map(|m| {
            let last = forecast(m + 4);
            Judged {
                origin: last.ts,
                target: last.valid_at,
                value: last.value,
            }
        })
        .collect();
    let expected = paired_sums(&spec(), &samples, &forecasts);
    assert_eq!(second.models.len(), 1);
    assert_eq!(second.models[0].error, expected);
    assert_eq!(expected.judged, 12);
    assert!(expected.sum_c > 0.0 && expected.sum_b > 0.0);
}

#[test]
fn the_serving_models_rows_are_counted_on_its_reference_bins() {
    let reference = vec![
        FeatureReference {
            name: "co2_ppm".into(),
            edges: vec![580.0, 620.0],
            shares: vec![0.3, 0.4, 0.3],
            min: 560.0,
            max: 640.0,
            mean: 600.0,
            std: 20.0,
            rows: 100,
        },
        FeatureReference {
            name: "temperature_c".into(),
            edges: vec![],
            shares: vec![1.0],
            min: 18.0,
            max: 20.0,
            mean: 19.0,
            std: 1.0,
            rows: 100,
        },
    ];
    let rows: [&[f32]; 3] = [&[550.0, 21.0], &[600.0, 19.0], &[630.0, f32::NAN]];
    let windows = feature_windows(&reference, rows).unwrap();
    assert_eq!(windows[0].counts, [1, 1, 1]);
    assert_eq!((windows[0].below_range, windows[0].above_range), (1, 0));
    assert_eq!(windows[0].sum, 1_780.0);
    assert_eq!(
        windows[1].counts,
        [2],
        "a value that is not a number is not counted"
    );
    assert_eq!(windows[1].above_range, 1);
    assert!(feature_windows(&reference, [&[1.0f32][..]]).is_none());

    // In a summary: one row per origin bin (the last one made), of the window's origins.
    let model = info(reference);
    let mut summaries = fresh();
    let first = (0..200)
        .flat_map(|m| feed(&mut summaries, m, &model))
        .next()
        .unwrap();
    assert_eq!(first.features[0].values(), 12, "12 bins of 5 minutes");
}

#[test]
fn a_restart_from_the_checkpoint_emits_the_same_later_windows_and_none_twice() {
    let model = info(Vec::new());
    let mut whole = fresh();
    let uninterrupted: Vec<WindowSummary> =
        (0..320).flat_map(|m| feed(&mut whole, m, &model)).collect();

    let mut before = fresh();
    let mut first_part = Vec::new();
    let mut checkpoint = Checkpoint::default();
    for m in 0..250 {
        let due = feed(&mut before, m, &model);
        if !due.is_empty() {
            checkpoint = before.checkpoint();
        }
        first_part.extend(due);
    }
    // The process stops at minute 250; the restarted one re-reads after the checkpoint.
    let mut after = resumed(checkpoint);
    let from = i64::try_from(checkpoint.raw_after.min(checkpoint.forecasts_after)).unwrap();
    let mut second_part = Vec::new();
    for m in from..320 {
        let sequence = u64::try_from(m + 1).unwrap();
        if sequence > checkpoint.raw_after {
            after.observe_reading(sequence, &reading(m, co2(m)));
        }
        if sequence > checkpoint.forecasts_after {
            after.observe_forecast(sequence, &forecast(m), Some(model.clone()));
        }
        second_part.extend(after.take_due(false));
    }
    let mut restarted = first_part;
    restarted.extend(second_part);
    assert_eq!(restarted, uninterrupted);
    assert_eq!(uninterrupted.len(), 4);
}

#[test]
fn a_late_reading_of_an_emitted_window_is_not_counted_again_and_persistence_is_no_model() {
    let model = info(Vec::new());
    let mut summaries = fresh();
    let emitted: Vec<WindowSummary> = (0..100)
        .flat_map(|m| feed(&mut summaries, m, &model))
        .collect();
    assert_eq!(emitted.len(), 1);
    summaries.observe_reading(1_000, &reading(10, 1.0));
    let mut persistence = forecast(100);
    persistence.kind = ForecastKind::Persistence;
    (persistence.model, persistence.version) = (None, None);
    summaries.observe_forecast(1_000, &persistence, None);
    let later: Vec<WindowSummary> = (100..200)
        .flat_map(|m| feed(&mut summaries, m, &model))
        .collect();
    assert!(later.iter().all(|s| s.window_start.timestamp() > T0));
    assert!(
        later
            .iter()
            .all(|s| s.models.iter().all(|m| m.version == 1))
    );
}

#[test]
fn longer_windows_hold_every_hour_of_their_span_and_say_their_length() {
    let model = info(Vec::new());
    let mut summaries = resumed_with(Checkpoint::default(), 3 * 3_600);
    let mut emitted = Vec::new();
    for m in 0..(6 * 60 + 30) {
        emitted.extend(feed(&mut summaries, m, &model));
    }
    let starts: Vec<i64> = emitted.iter().map(|s| s.window_start.timestamp()).collect();
    assert_eq!(starts, [T0, T0 + 3 * 3_600], "two windows of three hours");
    assert!(emitted.iter().all(|s| s.window_secs == 3 * 3_600));
    assert_eq!(emitted[1].readings, 180);
    assert_eq!(
        emitted[1].models[0].error.judged, 36,
        "three hours of 5-minute targets"
    );
}
