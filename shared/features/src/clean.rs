//! Robust outlier rejection: a Hampel filter marks a bin whose value is further than
//! `sigmas` scaled median absolute deviations from the median of its neighbourhood; such a bin
//! is treated as missing (and may then be interpolated like any short gap). Values outside the
//! metric's physical range are missing too.

use std::collections::BTreeMap;

use edgeops_contracts::metric::{Lookup, MetricCatalog};

/// Consistency constant: MAD * 1.4826 estimates the standard deviation of normal data.
const MAD_SCALE: f64 = 1.4826;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The bins (by start) that the Hampel filter rejects. The neighbourhood is the observed bins
/// within `half_window` bins in time, so a sample's influence never reaches further than that.
pub fn hampel_outliers(
    bins: &BTreeMap<i64, f64>,
    interval_secs: i64,
    half_window: usize,
    sigmas: f64,
) -> Vec<i64> {
    let reach = interval_secs * half_window as i64;
    let mut outliers = Vec::new();
    for (&bin, &value) in bins {
        let mut window: Vec<f64> = bins
            .range(bin - reach..=bin + reach)
            .map(|(_, v)| *v)
            .collect();
        if window.len() < 3 {
            continue;
        }
        let med = median(&mut window);
        let mut deviations: Vec<f64> = window.iter().map(|v| (v - med).abs()).collect();
        let mad = median(&mut deviations) * MAD_SCALE;
        if mad > 0.0 && (value - med).abs() > sigmas * mad {
            outliers.push(bin);
        }
    }
    outliers
}

/// Drops physically impossible values and Hampel outliers.
pub fn clean(
    metric: &str,
    mut bins: BTreeMap<i64, f64>,
    interval_secs: i64,
    half_window: usize,
    sigmas: f64,
) -> BTreeMap<i64, f64> {
    if let Lookup::Known(m) = MetricCatalog.lookup(metric) {
        bins.retain(|_, v| v.is_finite() && (m.min..=m.max).contains(v));
    }
    for outlier in hampel_outliers(&bins, interval_secs, half_window, sigmas) {
        bins.remove(&outlier);
    }
    bins
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn series(values: &[f64]) -> BTreeMap<i64, f64> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i64 * 300, *v))
            .collect()
    }

    #[test]
    fn a_spike_in_a_smooth_series_is_rejected() {
        let mut values: Vec<f64> = (0..30)
            .map(|i| 600.0 + f64::from(i) * 2.0 + f64::from(i % 3))
            .collect();
        values[15] = 3000.0;
        let cleaned = clean("co2_ppm", series(&values), 300, 3, 4.0);
        assert!(!cleaned.contains_key(&(15 * 300)));
        assert_eq!(cleaned.len(), 29);
    }

    #[test]
    fn impossible_values_are_dropped() {
        let cleaned = clean("humidity_pct", series(&[40.0, 140.0, 41.0]), 300, 3, 4.0);
        assert_eq!(cleaned.len(), 2);
    }

    proptest! {
        #[test]
        fn a_constant_series_has_no_outliers(value in 0.0f64..1000.0, n in 3usize..60) {
            prop_assert!(hampel_outliers(&series(&vec![value; n]), 300, 3, 3.0).is_empty());
        }

        #[test]
        fn a_linear_trend_has_no_outliers(slope in -5.0f64..5.0, n in 3usize..60) {
            let values: Vec<f64> = (0..n).map(|i| 500.0 + slope * i as f64).collect();
            prop_assert!(hampel_outliers(&series(&values), 300, 3, 3.0).is_empty());
        }
    }
}
