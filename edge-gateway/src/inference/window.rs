//! A device's recent raw samples, per metric: exactly what the feature code needs to compute
//! the row of the newest bin as preprocessing computes it from the full history, and no more.
//!
//! `FeatureSpec::load_margin_bins` says how much history a row needs (its lags and windows plus
//! how far cleaning and gap filling reach); older samples cannot change the newest row, so
//! they are dropped and a device's memory stays bounded whatever its sampling rate.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use edgeops_features::FeatureSpec;
use edgeops_features::resample::bin_of;

/// Samples per metric, as `edgeops_features::compute_rows` takes them.
pub type Series = BTreeMap<String, Vec<(DateTime<Utc>, f64)>>;

/// Samples by metric, one value per timestamp (a resent reading replaces, never doubles).
#[derive(Debug, Default, Clone)]
pub struct Window {
    samples: BTreeMap<String, BTreeMap<DateTime<Utc>, f64>>,
    newest: Option<DateTime<Utc>>,
    /// Samples before this were dropped.
    cut: Option<DateTime<Utc>>,
}

impl Window {
    /// Adds one reading's values.
    pub fn push(&mut self, ts: DateTime<Utc>, metrics: &BTreeMap<String, f64>) {
        for (metric, value) in metrics {
            self.samples
                .entry(metric.clone())
                .or_default()
                .insert(ts, *value);
        }
        if self.newest.is_none_or(|newest| ts > newest) {
            self.newest = Some(ts);
        }
    }

    /// Drops samples that can no longer change the newest bin's row under any of `specs`.
    pub fn prune<'a>(&mut self, specs: impl IntoIterator<Item = &'a FeatureSpec>) {
        let Some(newest) = self.newest else { return };
        let Some(keep_from) = specs
            .into_iter()
            .map(|spec| oldest_needed(spec, newest))
            .min()
        else {
            return;
        };
        for series in self.samples.values_mut() {
            *series = series.split_off(&keep_from);
        }
        self.cut = self.cut.max(Some(keep_from));
        self.samples.retain(|_, series| !series.is_empty());
    }

    /// When the newest sample of any of `metrics` was taken: the bin a forecast is made from
    /// (an input silent since holds its value there, see `edgeops_features::compute_rows`).
    pub fn newest_of(&self, metrics: &[String]) -> Option<DateTime<Utc>> {
        metrics
            .iter()
            .filter_map(|metric| self.latest(metric))
            .map(|(ts, _)| ts)
            .max()
    }

    /// The newest sample of `metric`.
    pub fn latest(&self, metric: &str) -> Option<(DateTime<Utc>, f64)> {
        self.samples
            .get(metric)?
            .last_key_value()
            .map(|(ts, v)| (*ts, *v))
    }

    /// The samples `spec` needs for the row of `origin`'s bin, in the form
    /// `edgeops_features::compute_rows` takes: its metrics, over its load margin only (the
    /// window may hold more for another spec; the feature computation costs per sample).
    /// `None` when part of that history was already dropped (the origin lags the newest sample
    /// by more than the window keeps): a row from it could differ from preprocessing's.
    pub fn series_for(&self, spec: &FeatureSpec, origin: DateTime<Utc>) -> Option<Series> {
        let from = oldest_needed(spec, origin);
        if self.cut.is_some_and(|cut| cut > from) {
            return None;
        }
        let series = spec
            .metrics
            .iter()
            .filter_map(|metric| {
                let series = self.samples.get(metric)?;
                Some((
                    metric.clone(),
                    series.range(from..).map(|(ts, v)| (*ts, *v)).collect(),
                ))
            })
            .collect();
        Some(series)
    }

    /// Samples held, over every metric (for tests and memory accounting).
    pub fn len(&self) -> usize {
        self.samples.values().map(BTreeMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The oldest timestamp whose sample can still change the row of `newest`'s bin.
fn oldest_needed(spec: &FeatureSpec, newest: DateTime<Utc>) -> DateTime<Utc> {
    let interval = spec.interval_secs.max(1);
    let margin = i64::try_from(spec.load_margin_bins()).unwrap_or(i64::MAX / 2);
    let first_bin = bin_of(newest, interval).saturating_sub(margin.saturating_mul(interval));
    DateTime::from_timestamp(first_bin, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeops_features::compute_rows;
    use proptest::prelude::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600 + secs, 0).unwrap()
    }

    fn reading(co2: f64, temp: f64, hum: f64) -> BTreeMap<String, f64> {
        BTreeMap::from([
            ("co2_ppm".to_owned(), co2),
            ("temperature_c".to_owned(), temp),
            ("humidity_pct".to_owned(), hum),
        ])
    }

    #[test]
    fn a_resent_reading_replaces_its_sample() {
        let mut window = Window::default();
        window.push(at(0), &reading(500.0, 20.0, 40.0));
        window.push(at(0), &reading(510.0, 20.0, 40.0));
        assert_eq!(window.len(), 3);
        assert_eq!(window.latest("co2_ppm"), Some((at(0), 510.0)));
    }

    #[test]
    fn an_origin_whose_history_was_dropped_gets_no_series() {
        let spec = FeatureSpec::indoor_air();
        let mut window = Window::default();
        let co2_only = BTreeMap::from([("co2_ppm".to_owned(), 500.0)]);
        let temperature_only = BTreeMap::from([("temperature_c".to_owned(), 20.0)]);
        window.push(at(0), &co2_only);
        window.push(at(600), &co2_only);
        assert!(window.series_for(&spec, at(600)).is_some());
        // Temperature runs a day ahead of the target: the target's margin is gone.
        window.push(at(86_400), &temperature_only);
        window.prune([&spec]);
        assert_eq!(window.series_for(&spec, at(600)), None);
        assert!(window.series_for(&spec, at(86_400)).is_some());
    }

    #[test]
    fn pruning_keeps_the_load_margin_of_the_newest_bin() {
        let spec = FeatureSpec::indoor_air();
        let mut window = Window::default();
        let bins = spec.load_margin_bins() as i64 + 10;
        for bin in 0..=bins {
            window.push(at(bin * 300), &reading(500.0, 20.0, 40.0));
        }
        window.prune([&spec]);
        let kept = window.series_for(&spec, at(bins * 300)).unwrap()["co2_ppm"].clone();
        assert_eq!(kept.len(), spec.load_margin_bins() + 1);
        assert_eq!(kept[0].0, at((bins - spec.load_margin_bins() as i64) * 300));
    }

    proptest! {
        // The reason the window exists: the newest row from the pruned window equals the newest
        // row computed from everything, so the edge feeds the model what training saw.
        #[test]
        fn the_newest_row_from_the_window_equals_the_full_computation(
            steps in proptest::collection::vec((1i64..400, 380.0f64..1500.0, 18.0f64..26.0, 30.0f64..60.0), 30..250)
        ) {
            let spec = FeatureSpec::indoor_air();
            let mut window = Window::default();
            let mut all: BTreeMap<String, Vec<(DateTime<Utc>, f64)>> = BTreeMap::new();
            let mut t = 0;
            for (step, co2, temp, hum) in steps {
                t += step;
                let values = reading(co2, temp, hum);
                window.push(at(t), &values);
                window.prune([&spec]);
                for (metric, value) in &values {
                    all.entry(metric.clone()).or_default().push((at(t), *value));
                }
            }
            let newest_bin = bin_of(at(t), spec.interval_secs);
            let series = window.series_for(&spec, at(t)).unwrap();
            let from_window = compute_rows(&spec, &series, Some(newest_bin));
            let full = compute_rows(&spec, &all, Some(newest_bin));
            prop_assert_eq!(from_window, full);
        }
    }
}
