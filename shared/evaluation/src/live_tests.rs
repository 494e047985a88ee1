//! The rule on live-like data: rooms' CO2 sampled every minute (a daily pattern, a slow random
//! drift and sensor noise), 5-minute bins, forecasts 6 bins ahead from every origin. A candidate
//! whose mean squared error is 10 % above persistence's fails, one 10 % below passes, and a
//! handful of forecasts is undecided, whichever way they lean.

use chrono::{DateTime, Duration, TimeZone, Utc};
use edgeops_features::{FeatureSpec, bin_values};

use crate::noise::Noise;
use crate::{Comparison, Forecast, Outcome, Rule, decide, pair_device};

const HORIZON: i64 = 6;

const RULE: Rule = Rule {
    min_forecasts: 30,
    max_ratio: 1.05,
};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single().unwrap()
}

/// One room's minute samples over `hours`.
fn room(noise: &mut Noise, hours: i64) -> Vec<(DateTime<Utc>, f64)> {
    let mut drift = 0.0;
    (0..hours * 60)
        .map(|minute| {
            drift = 0.98 * drift + 6.0 * noise.normal();
            let hour = minute as f64 / 60.0;
            let occupied = (hour % 24.0 - 8.0).clamp(0.0, 10.0);
            let level = 450.0 + 40.0 * occupied * (std::f64::consts::PI * occupied / 10.0).sin();
            let ts = start() + Duration::minutes(minute);
            (ts, level + drift + 5.0 * noise.normal())
        })
        .collect()
}

/// Per room, up to `per_room` (origin, target, persistence, actual) from the earliest origins,
/// with the bins as the pipeline computes them.
type Origins = Vec<(i64, i64, f64, f64)>;

fn origins(spec: &FeatureSpec, samples: &[(DateTime<Utc>, f64)], per_room: usize) -> Origins {
    let bins = bin_values(spec, &spec.target, samples);
    bins.iter()
        .filter_map(|(bin, (value, _))| {
            let target = bin + HORIZON * spec.interval_secs;
            let (actual, _) = bins.get(&target)?;
            Some((*bin, target, *value, *actual))
        })
        .take(per_room)
        .collect()
}

/// A candidate that catches `catch` of each change persistence misses, plus its own noise
/// sized so that its mean squared error is `ratio` x persistence's over the forecasts judged.
/// At most `per_room` forecasts a room (the earliest origins).
fn judged(ratio: f64, rooms: usize, hours: i64, per_room: usize, seed: u64) -> Comparison {
    let spec = FeatureSpec::indoor_air();
    let mut noise = Noise(seed);
    let samples: Vec<_> = (0..rooms).map(|_| room(&mut noise, hours)).collect();
    let chosen: Vec<Origins> = samples
        .iter()
        .map(|s| origins(&spec, s, per_room))
        .collect();
    let errors: Vec<f64> = chosen
        .iter()
        .flatten()
        .map(|(_, _, value, actual)| (actual - value).powi(2))
        .collect();
    let persistence_mse = errors.iter().sum::<f64>() / errors.len() as f64;
    let catch = 0.3;
    let own = ((ratio - (1.0 - catch) * (1.0_f64 - catch)) * persistence_mse).sqrt();
    let time = |s: i64| Utc.timestamp_opt(s, 0).single().unwrap();
    let pairings: Vec<_> = samples
        .iter()
        .zip(&chosen)
        .map(|(samples, chosen)| {
            let forecasts: Vec<Forecast> = chosen
                .iter()
                .map(|(origin, target, value, actual)| Forecast {
                    origin: time(*origin),
                    target: time(*target),
                    value: value + catch * (actual - value) + own * noise.normal(),
                })
                .collect();
            pair_device(&spec, samples, &forecasts)
        })
        .collect();
    Comparison::of(&pairings)
}

#[test]
fn ten_percent_worse_than_persistence_over_enough_forecasts_fails() {
    let c = judged(1.10, 6, 48, usize::MAX, 7);
    assert!(c.forecasts > 3000, "{}", c.describe());
    let d = decide(&c, &RULE);
    assert_eq!(d.outcome, Outcome::Fail, "{}", d.text);
    assert!(d.text.contains("worse than persistence"), "{}", d.text);
}

#[test]
fn ten_percent_better_than_persistence_passes() {
    let c = judged(0.90, 6, 48, usize::MAX, 11);
    let d = decide(&c, &RULE);
    assert_eq!(d.outcome, Outcome::Pass, "{}", d.text);
}

#[test]
fn a_few_forecasts_are_undecided_whichever_way_they_lean() {
    for (ratio, seed) in [(1.10, 3), (0.90, 5), (2.0, 9)] {
        let c = judged(ratio, 1, 6, 20, seed);
        assert_eq!(c.forecasts, 20);
        let d = decide(&c, &RULE);
        assert_eq!(d.outcome, Outcome::Undecided, "{ratio}: {}", d.text);
        assert!(d.text.contains("20 forecasts of 1 device"), "{}", d.text);
    }
}

#[test]
fn five_hours_of_one_slightly_worse_room_are_undecided_not_passed() {
    // 60 forecasts of one room: past the minimum, but 10 % is within the noise there.
    let d = decide(&judged(1.10, 1, 24, 60, 13), &RULE);
    assert_eq!(d.outcome, Outcome::Undecided, "{}", d.text);
}

#[test]
fn a_grossly_broken_candidate_fails_on_the_minimum() {
    // The demo's broken version: persistence + 250 ppm.
    let spec = FeatureSpec::indoor_air();
    let samples = room(&mut Noise(17), 6);
    let bins = bin_values(&spec, &spec.target, &samples);
    let forecasts: Vec<Forecast> = bins
        .iter()
        .take(30)
        .filter_map(|(bin, (value, _))| {
            Some(Forecast {
                origin: Utc.timestamp_opt(*bin, 0).single()?,
                target: Utc.timestamp_opt(bin + HORIZON * 300, 0).single()?,
                value: value + 250.0,
            })
        })
        .collect();
    let c = Comparison::of(&[pair_device(&spec, &samples, &forecasts)]);
    assert_eq!(c.forecasts, 30);
    assert_eq!(decide(&c, &RULE).outcome, Outcome::Fail);
}
