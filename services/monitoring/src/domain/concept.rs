//! Concept drift at one device and model version: Page-Hinkley
//! ([`edgeops_evaluation::PageHinkley`]) on one standardised observation per window, the mean
//! paired difference `c - b` (the model's squared error minus persistence's).
//!
//! The in-control level is learnt from the version's first [`BASELINE_WINDOWS`] judged windows
//! at the device (`μ₀`, `σ₀` per forecast); each later window gives
//! `z = (mean(c - b) - μ₀) / (σ₀ / √n_eff)`, where `n_eff` is the window's judged forecasts
//! over the horizon (forecasts of overlapping horizons share their errors). Windows are fed in
//! order, once each: one older than the last fed is passed over (a late window after an
//! outage still counts in the live error, not in the sequential test).

use chrono::{DateTime, Utc};
use edgeops_contracts::monitoring::PairedErrorSums;
use edgeops_evaluation::PageHinkley;
use serde::{Deserialize, Serialize};

/// Judged windows the in-control level is learnt from: a day of hours.
pub const BASELINE_WINDOWS: u32 = 24;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConceptState {
    baseline_windows: u32,
    baseline_n: u64,
    baseline_sum_d: f64,
    baseline_sum_d_sq: f64,
    detector: PageHinkley,
    last_window: Option<DateTime<Utc>>,
}

/// What feeding one window did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// Passed over: already fed, older than the last fed, or nothing judged.
    Skipped,
    /// Still learning the in-control level.
    Learning,
    /// Fed `z`; the detector's statistic after it, and whether it alarmed (it then starts
    /// over, so one shift is one alarm).
    Fed {
        z: f64,
        statistic: f64,
        alarmed: bool,
    },
}

impl ConceptState {
    pub fn feed(
        &mut self,
        window_start: DateTime<Utc>,
        sums: &PairedErrorSums,
        horizon_bins: u32,
    ) -> Step {
        if self.last_window.is_some_and(|last| window_start <= last) || sums.judged == 0 {
            return Step::Skipped;
        }
        self.last_window = Some(window_start);
        let n = sums.judged as f64;
        let sum_d = sums.sum_c - sums.sum_b;
        if self.baseline_windows < BASELINE_WINDOWS {
            self.baseline_windows += 1;
            self.baseline_n += sums.judged;
            self.baseline_sum_d += sum_d;
            self.baseline_sum_d_sq += sums.sum_d_sq;
            return Step::Learning;
        }
        let (mean0, sd0) = self.in_control();
        let n_eff = (n / f64::from(horizon_bins.max(1))).max(1.0);
        let z = (sum_d / n - mean0) / (sd0 / n_eff.sqrt());
        let alarmed = self.detector.update(z);
        let statistic = self.detector.statistic();
        if alarmed {
            self.detector.reset();
        }
        Step::Fed {
            z,
            statistic,
            alarmed,
        }
    }

    /// `μ₀` and `σ₀` per forecast (σ₀ floored so a perfect baseline still standardises).
    fn in_control(&self) -> (f64, f64) {
        let n = self.baseline_n.max(1) as f64;
        let mean = self.baseline_sum_d / n;
        let variance = (self.baseline_sum_d_sq / n - mean * mean).max(0.0);
        (mean, variance.sqrt().max(1e-6))
    }

    /// The detector's alarm level (for evidence).
    pub fn threshold(&self) -> f64 {
        self.detector.threshold()
    }

    /// Whether the detector is quiet enough for an incident to close (below half its level).
    pub fn quiet(&self) -> bool {
        self.detector.statistic() < self.detector.threshold() / 2.0
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn hour(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + chrono::Duration::hours(h)
    }

    /// 12 forecasts whose differences `c - b` alternate around `mean` by ±10.
    fn window(mean: f64) -> PairedErrorSums {
        let ds: Vec<f64> = (0..12)
            .map(|i| mean + if i % 2 == 0 { 10.0 } else { -10.0 })
            .collect();
        PairedErrorSums {
            judged: 12,
            unusable: 0,
            sum_c: ds.iter().map(|d| d.max(0.0) + 100.0).sum(),
            sum_b: ds.iter().map(|d| (-d).max(0.0) + 100.0).sum(),
            sum_d_sq: ds.iter().map(|d| d * d).sum(),
        }
    }

    #[test]
    fn a_steady_model_never_alarms_and_a_worse_one_alarms_within_hours() {
        let mut state = ConceptState::default();
        for h in 0..24 {
            assert_eq!(state.feed(hour(h), &window(0.0), 1), Step::Learning);
        }
        for h in 24..24 * 30 {
            let step = state.feed(hour(h), &window(0.0), 1);
            assert!(matches!(step, Step::Fed { alarmed: false, .. }), "{step:?}");
        }
        // The model's squared error rises by 1.5 baseline σ per forecast (12 an hour): caught
        // within two hours; by one σ, within three.
        let alarmed = |s: Step| matches!(s, Step::Fed { alarmed: true, .. });
        for (rise, hours) in [(15.0, 2), (10.0, 3)] {
            let mut shifted = state.clone();
            let start = 24 * 30;
            let caught = (start..start + 24)
                .position(|h| alarmed(shifted.feed(hour(h), &window(rise), 1)))
                .map(|at| at + 1);
            assert!(
                caught.is_some_and(|at| at <= hours),
                "rise {rise}: caught after {caught:?} hours"
            );
        }
    }

    #[test]
    fn each_window_is_fed_once_and_late_ones_are_passed_over() {
        let mut state = ConceptState::default();
        assert_eq!(state.feed(hour(5), &window(0.0), 1), Step::Learning);
        assert_eq!(state.feed(hour(5), &window(0.0), 1), Step::Skipped);
        assert_eq!(state.feed(hour(4), &window(0.0), 1), Step::Skipped);
        assert_eq!(state.baseline_windows, 1);
    }
}
