//! The drift detector's defaults on simulated sensor streams: how often it flags a stationary
//! feature (never, it must) and how soon it flags a calibration offset. Four inputs of an
//! indoor-air model, one value per 5-minute bin, each with a daily cycle:
//! - temperature: a sine (±2 °C) plus white noise (0.4 °C);
//! - CO₂: flat at night, an occupancy bump by day (+300 ppm), white noise (25 ppm);
//! - humidity: a cosine (±4 %) plus AR(1) noise (φ = 0.9 per bin, sd 2 %): neighbouring values
//!   are alike, so a window holds fewer independent values than it has values;
//! - the time of day's sine, an input without noise.
//!
//! The reference is the first 30 days; the live stream the next 31. `docs/monitoring.md`
//! quotes the figures these tests print (`cargo nextest run -p edgeops-evaluation
//! drift_calibration --no-capture`).

use edgeops_contracts::monitoring::{FeatureReference, FeatureWindow};
use edgeops_features::feature_reference;

use crate::drift::testing::window_of;
use crate::drift::{DriftThresholds, combined, feature_drift};
use crate::noise::Noise;

const BINS_PER_HOUR: usize = 12;
const BINS_PER_DAY: usize = 24 * BINS_PER_HOUR;

#[derive(Clone, Copy, Debug)]
enum Input {
    Temperature,
    Co2,
    Humidity,
    TimeOfDay,
}

const INPUTS: [Input; 4] = [
    Input::Temperature,
    Input::Co2,
    Input::Humidity,
    Input::TimeOfDay,
];

/// A stationary stream of one input, bin by bin.
struct Stream {
    input: Input,
    noise: Noise,
    ar: f64,
}

impl Stream {
    fn new(input: Input, seed: u64) -> Self {
        let mut noise = Noise::seeded(seed);
        let ar = 2.0 * noise.normal();
        Self { input, noise, ar }
    }

    /// The value at `bin` (5-minute bins from midnight of day 0).
    fn at(&mut self, bin: usize) -> f64 {
        let hour = (bin % BINS_PER_DAY) as f64 / BINS_PER_HOUR as f64;
        let phase = std::f64::consts::TAU * hour / 24.0;
        match self.input {
            Input::Temperature => 21.0 + 2.0 * (phase - 2.4).sin() + 0.4 * self.noise.normal(),
            Input::Co2 => {
                let occupied = (hour - 8.0).clamp(0.0, 10.0);
                450.0
                    + 300.0 * (std::f64::consts::PI * occupied / 10.0).sin()
                    + 25.0 * self.noise.normal()
            }
            Input::Humidity => {
                self.ar = 0.9 * self.ar + 2.0 * (1.0 - 0.81_f64).sqrt() * self.noise.normal();
                45.0 + 4.0 * phase.cos() + self.ar
            }
            Input::TimeOfDay => phase.sin(),
        }
    }

    /// A value at `bin` independent of the ones before (the AR noise drawn afresh).
    fn independent_at(&mut self, bin: usize) -> f64 {
        self.ar = 2.0 * self.noise.normal();
        self.at(bin)
    }

    fn bins(&mut self, from: usize, to: usize) -> Vec<f64> {
        (from..to).map(|bin| self.at(bin)).collect()
    }
}

fn reference_of(input: Input, seed: u64) -> FeatureReference {
    let values = Stream::new(input, seed).bins(0, 30 * BINS_PER_DAY);
    feature_reference(&format!("{input:?}"), values).unwrap()
}

/// Hourly windows of the live stream (days 30 to 61) of one device, shifted by `offset`
/// from hour `offset_from` of the live stream on.
fn hourly_windows(
    reference: &FeatureReference,
    input: Input,
    seed: u64,
    offset: f64,
    offset_from: usize,
) -> Vec<FeatureWindow> {
    let mut stream = Stream::new(input, seed);
    // Same seed as the reference, read on: the live stream continues the reference's.
    stream.bins(0, 30 * BINS_PER_DAY);
    (0..31 * 24)
        .map(|hour| {
            let from = 30 * BINS_PER_DAY + hour * BINS_PER_HOUR;
            let mut values = stream.bins(from, from + BINS_PER_HOUR);
            if hour >= offset_from {
                values.iter_mut().for_each(|v| *v += offset);
            }
            window_of(reference, &values)
        })
        .collect()
}

/// Day windows (the last 24 hourly windows, judged every hour) of four devices' stationary
/// streams of `input`: (windows judged, flagged, max PSI, max W, windows over the PSI
/// threshold alone).
fn day_windows(input: Input, seed: u64) -> (usize, usize, f64, f64, usize) {
    let thresholds = DriftThresholds::default();
    let (mut judged, mut flagged, mut max_psi, mut max_w, mut psi_over) =
        (0, 0, 0.0_f64, 0.0_f64, 0);
    for device in 0..4u64 {
        let seed = seed + device;
        let reference = reference_of(input, seed);
        let hours = hourly_windows(&reference, input, seed, 0.0, usize::MAX);
        for end in 24..=hours.len() {
            let day = combined(&hours[end - 24..end]).unwrap();
            let drift = feature_drift(&reference, &day, &thresholds).unwrap();
            judged += 1;
            flagged += usize::from(drift.drifted);
            psi_over += usize::from(drift.psi > thresholds.psi);
            max_psi = max_psi.max(drift.psi);
            max_w = max_w.max(drift.wasserstein);
        }
    }
    println!(
        "stationary {input:?}, last 24 h judged hourly: {judged} windows, {flagged} flagged, \
         {psi_over} over the PSI threshold alone, max PSI {max_psi:.3}, max W {max_w:.3}"
    );
    (judged, flagged, max_psi, max_w, psi_over)
}

#[test]
fn a_stationary_stream_judged_on_the_last_day_is_never_flagged() {
    for (i, input) in [Input::Temperature, Input::Co2, Input::TimeOfDay]
        .into_iter()
        .enumerate()
    {
        let (judged, flagged, ..) = day_windows(input, 100 * i as u64);
        assert_eq!(judged, 4 * (31 * 24 - 23));
        assert_eq!(flagged, 0, "{input:?}");
    }
}

#[test]
fn autocorrelated_noise_is_held_back_by_the_distance_not_by_psi() {
    // Humidity's noise lasts about an hour (φ = 0.9 per bin), so a day of 288 values holds
    // about 15 independent ones: PSI, which counts values, is over its threshold in most
    // windows; the distance, in the feature's own units, keeps the verdicts rare.
    let (judged, flagged, _, _, psi_over) = day_windows(Input::Humidity, 900);
    assert!(psi_over > 10 * flagged.max(1), "{psi_over} of {judged}");
    assert!(flagged * 100 <= judged, "{flagged} of {judged}");
}

#[test]
fn values_drawn_from_the_reference_distribution_are_never_flagged() {
    let thresholds = DriftThresholds::default();
    let n = thresholds.min_values as usize;
    let (mut judged, mut flagged, mut psi_over, mut max_psi, mut max_w) =
        (0, 0, 0, 0.0_f64, 0.0_f64);
    for (i, input) in INPUTS.into_iter().enumerate() {
        let seed = 1_000 + i as u64;
        let reference = reference_of(input, seed);
        let mut stream = Stream::new(input, seed + 7);
        let mut pick = Noise::seeded(seed + 11);
        for _ in 0..30 * 24 * 4 {
            // Values at random times of day: draws from the day's distribution.
            let values: Vec<f64> = (0..n)
                .map(|_| {
                    stream.independent_at((pick.uniform() * (30 * BINS_PER_DAY) as f64) as usize)
                })
                .collect();
            let drift =
                feature_drift(&reference, &window_of(&reference, &values), &thresholds).unwrap();
            judged += 1;
            flagged += usize::from(drift.drifted);
            psi_over += usize::from(drift.psi > thresholds.psi);
            max_psi = max_psi.max(drift.psi);
            max_w = max_w.max(drift.wasserstein);
        }
    }
    println!(
        "reference draws, windows of {n}: {judged} windows, {flagged} flagged, \
         {psi_over} over the PSI threshold alone, max PSI {max_psi:.3}, max W {max_w:.3}"
    );
    assert_eq!(flagged, 0);
}

#[test]
fn an_hour_of_a_daily_cycle_is_not_the_days_distribution() {
    // Twenty devices' hours together make windows of 240 values: enough for a verdict, but
    // each holds one time of day. Judging them against the whole day flags the cycle itself.
    let thresholds = DriftThresholds::default();
    let input = Input::Temperature;
    let reference = reference_of(input, 5);
    let devices: Vec<Vec<FeatureWindow>> = (0..20)
        .map(|device| hourly_windows(&reference, input, 5 + device, 0.0, usize::MAX))
        .collect();
    let flagged = (0..24)
        .filter(|hour| {
            let site: Vec<FeatureWindow> = devices.iter().map(|d| d[*hour].clone()).collect();
            let window = combined(&site).unwrap();
            feature_drift(&reference, &window, &thresholds)
                .unwrap()
                .drifted
        })
        .count();
    println!("stationary, one hour of 20 devices: {flagged} of 24 hours flagged");
    assert!(flagged >= 12, "{flagged} of 24");
}

/// Detection rate (and the smallest PSI and W seen) of an offset of `stds` reference standard deviations in windows of
/// `min_values` values drawn from the day's distribution.
fn detection_rate(input: Input, stds: f64, windows: usize) -> (f64, f64, f64) {
    let thresholds = DriftThresholds::default();
    let reference = reference_of(input, 77);
    let mut stream = Stream::new(input, 78);
    let mut pick = Noise::seeded(79);
    let offset = stds * reference.std;
    let (mut min_psi, mut min_w) = (f64::INFINITY, f64::INFINITY);
    let flagged = (0..windows)
        .filter(|_| {
            let values: Vec<f64> = (0..thresholds.min_values)
                .map(|_| {
                    let bin = (pick.uniform() * (30 * BINS_PER_DAY) as f64) as usize;
                    stream.independent_at(bin) + offset
                })
                .collect();
            let window = window_of(&reference, &values);
            let drift = feature_drift(&reference, &window, &thresholds).unwrap();
            min_psi = min_psi.min(drift.psi);
            min_w = min_w.min(drift.wasserstein);
            drift.drifted
        })
        .count();
    (flagged as f64 / windows as f64, min_psi, min_w)
}

#[test]
fn an_offset_of_one_reference_std_is_flagged_in_the_first_window() {
    for input in INPUTS {
        let rates: Vec<String> = [0.5, 0.75, 1.0]
            .iter()
            .map(|stds| {
                let (rate, psi, w) = detection_rate(input, *stds, 500);
                format!("{stds} sd: {rate:.3} (min PSI {psi:.2}, min W {w:.2})")
            })
            .collect();
        println!(
            "offset detection, windows of 200, {input:?}: {}",
            rates.join(", ")
        );
        assert_eq!(detection_rate(input, 1.0, 500).0, 1.0, "{input:?}");
        assert_eq!(detection_rate(input, -1.0, 500).0, 1.0, "{input:?}");
    }
}

#[test]
fn an_offset_is_flagged_once_it_fills_enough_of_the_last_day() {
    let thresholds = DriftThresholds::default();
    for (i, input) in INPUTS.into_iter().enumerate() {
        let seed = 300 + i as u64;
        let reference = reference_of(input, seed);
        let start = 24 * 10 + 5;
        let hours = hourly_windows(&reference, input, seed, reference.std, start);
        let first = (start + 1..=hours.len()).find(|end| {
            let day = combined(&hours[end - 24..*end]).unwrap();
            feature_drift(&reference, &day, &thresholds)
                .unwrap()
                .drifted
        });
        let after = first.map(|end| end - start);
        println!("offset of 1 sd on {input:?}, judged on the last 24 h: flagged after {after:?} h");
        assert!(
            after.is_some_and(|hours| hours <= 24),
            "{input:?}: {after:?}"
        );
    }
}
