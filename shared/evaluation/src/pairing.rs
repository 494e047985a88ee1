//! One device's candidate forecasts, each paired with its actual and with persistence at the
//! same origin and horizon, from the device's samples of the forecast metric.

use chrono::{DateTime, Utc};
use edgeops_features::resample::bin_time;
use edgeops_features::{FeatureSpec, bin_values};
use serde::{Deserialize, Serialize};

/// A candidate's forecast as the gateways send it: made from the origin bin (`ts`, its start)
/// for the target bin (`valid_at`, its start).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forecast {
    pub origin: DateTime<Utc>,
    pub target: DateTime<Utc>,
    pub value: f64,
}

/// A judged forecast: the candidate's and persistence's forecasts of one device for the same
/// origin and horizon, and the actual both are judged against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    /// The origin bin's number (its start over the interval): consecutive origins differ by 1.
    pub origin_bin: i64,
    pub target_at: DateTime<Utc>,
    pub horizon_bins: u32,
    pub actual: f64,
    pub candidate: f64,
    /// Persistence: the origin bin's value.
    pub baseline: f64,
}

impl Pair {
    pub fn candidate_sq(&self) -> f64 {
        (self.candidate - self.actual).powi(2)
    }

    pub fn baseline_sq(&self) -> f64 {
        (self.baseline - self.actual).powi(2)
    }
}

/// One device's forecasts sorted into judged, awaiting their actual, and unusable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pairing {
    /// Judged forecasts, by origin.
    pub pairs: Vec<Pair>,
    /// Forecasts whose target bin is not closed yet (no sample at or after its end).
    pub pending: u64,
    /// Forecasts that cannot be judged: not on the spec's bins, not a number, or a bin without
    /// a value (a gap longer than the spec fills, or a rejected outlier).
    pub unusable: u64,
}

/// Pairs one device's forecasts of `spec.target` with the bins of its `samples` (any order;
/// one per timestamp, as stored). Of several forecasts with the same origin the first counts.
pub fn pair_device(
    spec: &FeatureSpec,
    samples: &[(DateTime<Utc>, f64)],
    forecasts: &[Forecast],
) -> Pairing {
    let interval = spec.interval_secs;
    let mut pairing = Pairing::default();
    if interval <= 0 {
        pairing.unusable = forecasts.len() as u64;
        return pairing;
    }
    let values = bin_values(spec, &spec.target, samples);
    let latest = samples.iter().map(|(ts, _)| ts.timestamp()).max();
    let mut ordered: Vec<&Forecast> = forecasts.iter().collect();
    ordered.sort_by_key(|f| f.origin);
    ordered.dedup_by_key(|f| f.origin);
    for forecast in ordered {
        let (origin, target) = (forecast.origin.timestamp(), forecast.target.timestamp());
        let on_bins = origin.rem_euclid(interval) == 0 && target.rem_euclid(interval) == 0;
        let horizon = u32::try_from((target - origin) / interval).ok();
        let Some(horizon_bins) = horizon.filter(|h| *h > 0 && on_bins) else {
            pairing.unusable += 1;
            continue;
        };
        if !forecast.value.is_finite() {
            pairing.unusable += 1;
            continue;
        }
        if latest.is_none_or(|latest| latest < target.saturating_add(interval)) {
            pairing.pending += 1;
            continue;
        }
        let (Some((baseline, _)), Some((actual, _))) = (values.get(&origin), values.get(&target))
        else {
            pairing.unusable += 1;
            continue;
        };
        pairing.pairs.push(Pair {
            origin_bin: origin / interval,
            target_at: bin_time(target),
            horizon_bins,
            actual: *actual,
            candidate: forecast.value,
            baseline: *baseline,
        });
    }
    pairing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(bin: i64) -> DateTime<Utc> {
        bin_time(1_767_225_600 + bin * 300)
    }

    fn forecast(origin: i64, horizon: i64, value: f64) -> Forecast {
        Forecast {
            origin: at(origin),
            target: at(origin + horizon),
            value,
        }
    }

    #[test]
    fn actual_and_persistence_are_the_bins_values_not_a_nearby_reading() {
        let spec = FeatureSpec::indoor_air();
        // Two samples in bin 0 (mean 500), one in bin 6 (600) at its end, one in bin 7.
        let samples = vec![
            (at(0), 480.0),
            (at(0) + chrono::Duration::seconds(120), 520.0),
            (at(6) + chrono::Duration::seconds(299), 600.0),
            (at(7), 610.0),
        ];
        let pairing = pair_device(&spec, &samples, &[forecast(0, 6, 590.0)]);
        assert_eq!(pairing.pairs.len(), 1);
        let pair = pairing.pairs[0];
        assert_eq!(
            (pair.actual, pair.baseline, pair.horizon_bins),
            (600.0, 500.0, 6)
        );
        assert_eq!(pair.target_at, at(6));
        assert_eq!((pair.candidate_sq(), pair.baseline_sq()), (100.0, 10_000.0));
    }

    #[test]
    fn a_held_bin_counts_once_a_later_sample_closes_it() {
        let spec = FeatureSpec::indoor_air();
        // Dead-band reduced: bin 0 then nothing until bin 20; bins between hold 500.
        let mut samples = vec![(at(0), 500.0)];
        let f = forecast(0, 12, 505.0);
        assert_eq!(pair_device(&spec, &samples, &[f]).pending, 1);
        samples.push((at(20), 700.0));
        let pairing = pair_device(&spec, &samples, &[f]);
        assert_eq!(pairing.pairs[0].actual, 500.0, "held, not the later 700");
    }

    #[test]
    fn an_open_target_bin_is_pending_and_off_grid_forecasts_are_unusable() {
        let spec = FeatureSpec::indoor_air();
        let samples = vec![(at(0), 500.0), (at(6), 510.0)];
        let off_grid = Forecast {
            origin: at(0) + chrono::Duration::seconds(10),
            target: at(6),
            value: 1.0,
        };
        let pairing = pair_device(
            &spec,
            &samples,
            &[forecast(0, 6, 505.0), off_grid, forecast(1, 0, 1.0)],
        );
        assert_eq!(
            (pairing.pairs.len(), pairing.pending, pairing.unusable),
            (0, 1, 2)
        );
    }

    #[test]
    fn the_first_forecast_of_an_origin_counts() {
        let spec = FeatureSpec::indoor_air();
        let samples = vec![(at(0), 500.0), (at(1), 500.0), (at(2), 500.0)];
        let pairing = pair_device(
            &spec,
            &samples,
            &[forecast(0, 1, 510.0), forecast(0, 1, 900.0)],
        );
        assert_eq!(pairing.pairs.len(), 1);
        assert_eq!(pairing.pairs[0].candidate, 510.0);
    }
}
