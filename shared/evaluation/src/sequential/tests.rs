use super::*;
use crate::noise::Noise;

/// A month of hourly observations.
const MONTH: usize = 30 * 24;

#[test]
fn the_statistic_accumulates_the_excess_over_delta_and_never_goes_below_zero() {
    let mut detector = PageHinkley::new(0.5, 3.0);
    assert!(!detector.update(2.0));
    assert_eq!(detector.statistic(), 1.5);
    assert!(!detector.update(-4.0));
    assert_eq!(detector.statistic(), 0.0, "a fall does not bank credit");
    assert!(!detector.update(2.5));
    assert!(detector.update(2.5), "2 + 2 > 3");
    assert_eq!(detector.statistic(), 4.0);
    assert_eq!(detector.observations(), 4);
}

#[test]
fn an_alarm_holds_until_reset() {
    let mut detector = PageHinkley::default();
    assert!(detector.update(20.0));
    assert!(detector.update(0.0));
    detector.reset();
    assert_eq!((detector.statistic(), detector.observations()), (0.0, 0));
    assert!(!detector.update(0.0));
}

#[test]
fn a_non_finite_observation_is_ignored() {
    let mut detector = PageHinkley::default();
    detector.update(3.0);
    for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(!detector.update(x));
    }
    assert_eq!(
        (detector.statistic(), detector.observations()),
        (3.0 - DEFAULT_DELTA, 1)
    );
}

#[test]
fn a_model_that_improves_never_alarms() {
    let mut detector = PageHinkley::default();
    let mut noise = Noise::seeded(3);
    assert!((0..MONTH).all(|_| !detector.update(noise.normal() - 3.0)));
}

#[test]
fn the_defaults_are_the_documented_ones_and_state_travels_as_json() {
    let detector = PageHinkley::default();
    assert_eq!(
        (detector.delta(), detector.threshold()),
        (DEFAULT_DELTA, DEFAULT_THRESHOLD)
    );
    let mut fed = detector.clone();
    fed.update(2.5);
    let read: PageHinkley = serde_json::from_str(&serde_json::to_string(&fed).unwrap()).unwrap();
    assert_eq!(read, fed);
}

#[test]
fn a_steady_model_raises_no_alarm_in_a_month_of_hourly_windows() {
    let trials = 1_000;
    let (mut alarmed, mut max_statistic) = (0, 0.0_f64);
    for seed in 0..trials {
        let mut detector = PageHinkley::default();
        let mut noise = Noise::seeded(1_000 + seed);
        let mut any = false;
        for _ in 0..MONTH {
            any |= detector.update(noise.normal());
            max_statistic = max_statistic.max(detector.statistic());
        }
        alarmed += usize::from(any);
    }
    println!(
        "Page-Hinkley on N(0,1), {trials} months of hourly observations: {alarmed} alarmed, \
         max statistic {max_statistic:.2}"
    );
    assert!(alarmed * 100 <= trials as usize, "{alarmed} of {trials}");
}

/// Observations from the shift until the alarm, over `trials` streams that run steady for a
/// week first; `None` where no alarm came within a day.
fn delays(shift: f64, trials: u64) -> Vec<Option<usize>> {
    (0..trials)
        .map(|seed| {
            let mut detector = PageHinkley::default();
            let mut noise = Noise::seeded(5_000 + seed);
            for _ in 0..7 * 24 {
                if detector.update(noise.normal()) {
                    detector.reset();
                }
            }
            (1..=24).find(|_| detector.update(noise.normal() + shift))
        })
        .collect()
}

#[test]
fn a_clear_degradation_alarms_within_two_hourly_windows() {
    // One σ₀ more error per forecast, over a window of 30 effective forecasts: +√30 in z.
    let shift = 30f64.sqrt();
    let found = delays(shift, 1_000);
    let within = |n: usize| found.iter().filter(|d| d.is_some_and(|d| d <= n)).count();
    println!(
        "Page-Hinkley, shift {shift:.2}: {} of 1000 alarm at the 1st observation, {} by the 2nd, \
         {} by the 3rd",
        within(1),
        within(2),
        within(3)
    );
    assert!(within(2) >= 990, "{} of 1000", within(2));
    assert_eq!(within(3), 1_000);
}

#[test]
fn smaller_shifts_take_longer() {
    let mut slower = usize::MAX;
    for shift in [1.5, 2.0, 3.0, 4.0] {
        let mut found: Vec<usize> = delays(shift, 1_000)
            .into_iter()
            .map(|d| d.unwrap_or(25))
            .collect();
        found.sort_unstable();
        let (median, p95) = (found[500], found[950]);
        println!(
            "Page-Hinkley, shift {shift}: median {median}, 95th percentile {p95} observations"
        );
        if shift > DEFAULT_DELTA {
            assert!(p95 <= 24, "shift {shift}: {p95}");
        }
        assert!(median < slower, "shift {shift}: median {median}");
        slower = median;
    }
}
