//! The judged forecasts of a set of devices summed up: how many, over what span of target time,
//! the mean squared errors of the candidate (`c`) and of persistence (`b`), and the long-run
//! (co)variances of `c` and `b` that the rule's paired tests need.
//!
//! Forecasts of one device at consecutive origins overlap: with horizon `h`, two origins fewer
//! than `h` bins apart forecast across shared bins, so their errors are correlated (a forecast
//! error at horizon `h` is at least MA(h-1)). Treating them as independent would claim far more
//! certainty than the data hold. The variances are therefore Newey–West (Bartlett kernel)
//! within each device, with lag `h` bins, and devices are taken as independent of each other.
//! The variance of `mean(c - θ·b)` is then `(cc - 2θ·cb + θ²·bb) / n` for any `θ`, which lets
//! the rule test several `θ` from one summary.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::pairing::{Pair, Pairing};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Comparison {
    /// Judged forecasts.
    pub forecasts: u64,
    /// Devices with at least one judged forecast.
    pub devices: u64,
    /// Forecasts still waiting for their target bin to close, and those that cannot be judged.
    pub pending: u64,
    pub unusable: u64,
    /// Earliest and latest target bin (start) judged.
    pub first_target: Option<DateTime<Utc>>,
    pub last_target: Option<DateTime<Utc>>,
    /// Shortest and longest horizon judged, in bins.
    pub min_horizon_bins: u32,
    pub max_horizon_bins: u32,
    /// Mean squared error of the candidate and of persistence over the judged forecasts.
    pub candidate_mse: f64,
    pub baseline_mse: f64,
    /// Long-run variances and covariance of the squared errors (`cc`, `cb`, `bb`).
    pub lrv_cc: f64,
    pub lrv_cb: f64,
    pub lrv_bb: f64,
}

impl Comparison {
    /// Sums up the pairings of several devices (one [`Pairing`] per device).
    pub fn of(devices: &[Pairing]) -> Comparison {
        let all = || devices.iter().flat_map(|d| d.pairs.iter());
        let n = all().count();
        let mut summary = Comparison {
            pending: devices.iter().map(|d| d.pending).sum(),
            unusable: devices.iter().map(|d| d.unusable).sum(),
            ..Comparison::default()
        };
        if n == 0 {
            return summary;
        }
        let count = n as f64;
        summary.forecasts = n as u64;
        summary.devices = devices.iter().filter(|d| !d.pairs.is_empty()).count() as u64;
        summary.first_target = all().map(|p| p.target_at).min();
        summary.last_target = all().map(|p| p.target_at).max();
        summary.min_horizon_bins = all().map(|p| p.horizon_bins).min().unwrap_or(0);
        summary.max_horizon_bins = all().map(|p| p.horizon_bins).max().unwrap_or(0);
        summary.candidate_mse = all().map(Pair::candidate_sq).sum::<f64>() / count;
        summary.baseline_mse = all().map(Pair::baseline_sq).sum::<f64>() / count;
        let (mut cc, mut cb, mut bb) = (0.0, 0.0, 0.0);
        for device in devices {
            let (dcc, dcb, dbb) =
                long_run(&device.pairs, summary.candidate_mse, summary.baseline_mse);
            (cc, cb, bb) = (cc + dcc, cb + dcb, bb + dbb);
        }
        (summary.lrv_cc, summary.lrv_cb, summary.lrv_bb) = (cc / count, cb / count, bb / count);
        summary
    }

    /// `mean(c) - θ·mean(b)` and its standard error.
    pub fn difference(&self, theta: f64) -> (f64, f64) {
        let mean = self.candidate_mse - theta * self.baseline_mse;
        let lrv = self.lrv_cc - 2.0 * theta * self.lrv_cb + theta * theta * self.lrv_bb;
        let se = match self.forecasts {
            0 => f64::INFINITY,
            n => (lrv.max(0.0) / n as f64).sqrt(),
        };
        (mean, se)
    }

    /// The candidate's mean squared error over persistence's (1 when both are 0).
    pub fn ratio(&self) -> f64 {
        if self.baseline_mse > 0.0 {
            self.candidate_mse / self.baseline_mse
        } else if self.candidate_mse > 0.0 {
            f64::INFINITY
        } else {
            1.0
        }
    }

    /// "480 forecasts of 3 devices, targets 2026-01-01 10:00 to 14:00 UTC (4.0 h), horizon
    /// 6 bins; 36 awaiting their actual".
    pub fn describe(&self) -> String {
        let mut text = format!(
            "{} forecast{} of {} device{}",
            self.forecasts,
            plural(self.forecasts),
            self.devices,
            plural(self.devices)
        );
        if let (Some(first), Some(last)) = (self.first_target, self.last_target) {
            let hours = (last - first).num_seconds() as f64 / 3600.0;
            let to = if first.date_naive() == last.date_naive() {
                last.format("%H:%M").to_string()
            } else {
                last.format("%Y-%m-%d %H:%M").to_string()
            };
            text.push_str(&format!(
                ", targets {} to {to} UTC ({hours:.1} h)",
                first.format("%Y-%m-%d %H:%M")
            ));
            text.push_str(&match (self.min_horizon_bins, self.max_horizon_bins) {
                (a, b) if a == b => format!(", horizon {a} bins"),
                (a, b) => format!(", horizons {a}-{b} bins"),
            });
        }
        if self.pending > 0 {
            text.push_str(&format!("; {} awaiting their actual", self.pending));
        }
        if self.unusable > 0 {
            text.push_str(&format!("; {} not judgeable", self.unusable));
        }
        text
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One device's Newey–West sums (not yet divided by n) of the centred squared errors.
fn long_run(pairs: &[Pair], mean_c: f64, mean_b: f64) -> (f64, f64, f64) {
    let lag = pairs.iter().map(|p| p.horizon_bins).max().unwrap_or(0);
    let mut ordered: Vec<(i64, f64, f64)> = pairs
        .iter()
        .map(|p| {
            (
                p.origin_bin,
                p.candidate_sq() - mean_c,
                p.baseline_sq() - mean_b,
            )
        })
        .collect();
    ordered.sort_by_key(|(bin, _, _)| *bin);
    let (mut cc, mut cb, mut bb) = (0.0, 0.0, 0.0);
    for (i, (bin_i, ci, bi)) in ordered.iter().enumerate() {
        cc += ci * ci;
        cb += ci * bi;
        bb += bi * bi;
        for (bin_j, cj, bj) in &ordered[i + 1..] {
            let k = bin_j - bin_i;
            if k > i64::from(lag) {
                break;
            }
            let weight = 1.0 - k as f64 / (f64::from(lag) + 1.0);
            cc += 2.0 * weight * ci * cj;
            cb += weight * (ci * bj + cj * bi);
            bb += 2.0 * weight * bi * bj;
        }
    }
    (cc, cb, bb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeops_features::resample::bin_time;

    fn pair(origin_bin: i64, candidate_err: f64, baseline_err: f64) -> Pair {
        Pair {
            origin_bin,
            target_at: bin_time((origin_bin + 1) * 300),
            horizon_bins: 1,
            actual: 0.0,
            candidate: candidate_err,
            baseline: baseline_err,
        }
    }

    fn device(pairs: Vec<Pair>) -> Pairing {
        Pairing {
            pairs,
            ..Pairing::default()
        }
    }

    #[test]
    fn means_ratio_and_span() {
        let c = Comparison::of(&[
            device(vec![pair(0, 2.0, 1.0), pair(1, 2.0, 1.0)]),
            device(vec![pair(5, 0.0, 1.0)]),
            Pairing {
                pending: 4,
                ..Pairing::default()
            },
        ]);
        assert_eq!((c.forecasts, c.devices, c.pending), (3, 2, 4));
        assert!((c.candidate_mse - 8.0 / 3.0).abs() < 1e-12);
        assert!((c.baseline_mse - 1.0).abs() < 1e-12);
        assert!((c.ratio() - 8.0 / 3.0).abs() < 1e-12);
        assert_eq!(c.first_target, Some(bin_time(300)));
        assert_eq!(c.last_target, Some(bin_time(1800)));
        assert!(
            c.describe()
                .starts_with("3 forecasts of 2 devices, targets")
        );
        assert!(c.describe().ends_with("; 4 awaiting their actual"));
    }

    #[test]
    fn without_overlap_the_variance_is_the_plain_one() {
        // Origins 10 bins apart with horizon 1: no lag within reach, so the long-run variance
        // of c is the sample variance (divided by n).
        let errors = [1.0, 2.0, 3.0, 4.0];
        let pairs: Vec<Pair> = errors
            .iter()
            .enumerate()
            .map(|(i, e)| pair(i as i64 * 10, *e, 0.0))
            .collect();
        let c = Comparison::of(&[device(pairs)]);
        let sq: Vec<f64> = errors.iter().map(|e| e * e).collect();
        let mean = sq.iter().sum::<f64>() / 4.0;
        let var = sq.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / 4.0;
        assert!((c.lrv_cc - var).abs() < 1e-9);
        let (d, se) = c.difference(1.0);
        assert!((d - mean).abs() < 1e-12);
        assert!((se - (var / 4.0).sqrt()).abs() < 1e-9);
    }

    #[test]
    fn overlapping_forecasts_that_move_together_widen_the_variance() {
        // The same errors at consecutive origins (overlapping), or spread out: overlap with
        // positively correlated neighbours must not look more certain.
        let errors = [1.0, 1.0, 1.0, 3.0, 3.0, 3.0, 1.0, 1.0, 1.0, 3.0, 3.0, 3.0];
        let at = |spacing: i64| -> Vec<Pair> {
            errors
                .iter()
                .enumerate()
                .map(|(i, e)| Pair {
                    horizon_bins: 2,
                    ..pair(i as i64 * spacing, *e, 0.0)
                })
                .collect()
        };
        let adjacent = Comparison::of(&[device(at(1))]);
        let apart = Comparison::of(&[device(at(10))]);
        assert!(adjacent.difference(1.0).1 > apart.difference(1.0).1);
    }

    #[test]
    fn nothing_judged_is_an_infinite_standard_error() {
        let c = Comparison::of(&[]);
        assert_eq!(c.forecasts, 0);
        assert_eq!(c.difference(1.0).1, f64::INFINITY);
        assert_eq!(c.describe(), "0 forecasts of 0 devices");
    }
}
