//! Irregular samples into fixed-interval bins.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};

use crate::spec::GapFill;

/// The start (seconds since the epoch) of the bin holding `ts`.
pub fn bin_of(ts: DateTime<Utc>, interval_secs: i64) -> i64 {
    ts.timestamp().div_euclid(interval_secs) * interval_secs
}

pub fn bin_time(bin_start: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(bin_start, 0).single().unwrap_or_default()
}

/// Mean of the samples in each bin, keyed by bin start. Duplicated samples (same ts) must be
/// removed by the caller: the store keeps one sample per (device, ts).
pub fn resample(samples: &[(DateTime<Utc>, f64)], interval_secs: i64) -> BTreeMap<i64, f64> {
    let mut sums: BTreeMap<i64, (f64, u32)> = BTreeMap::new();
    for (ts, value) in samples {
        let entry = sums.entry(bin_of(*ts, interval_secs)).or_insert((0.0, 0));
        entry.0 += value;
        entry.1 += 1;
    }
    sums.into_iter()
        .map(|(bin, (sum, n))| (bin, sum / f64::from(n)))
        .collect()
}

/// A regular grid from `first` to `last` (bin starts, inclusive): observed values, gaps of at
/// most `max_gap` bins filled as `fill` says (flagged `true`), longer gaps left `None`.
pub fn fill_gaps(
    bins: &BTreeMap<i64, f64>,
    interval_secs: i64,
    max_gap: usize,
    fill: GapFill,
) -> Vec<(i64, Option<(f64, bool)>)> {
    let (Some((&first, _)), Some((&last, _))) = (bins.first_key_value(), bins.last_key_value())
    else {
        return Vec::new();
    };
    let mut grid: Vec<(i64, Option<(f64, bool)>)> = (0..=((last - first) / interval_secs))
        .map(|i| first + i * interval_secs)
        .map(|b| (b, bins.get(&b).map(|v| (*v, false))))
        .collect();
    let observed: Vec<usize> = grid
        .iter()
        .enumerate()
        .filter(|(_, (_, v))| v.is_some())
        .map(|(i, _)| i)
        .collect();
    for pair in observed.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let missing = b - a - 1;
        if missing == 0 || missing > max_gap {
            continue;
        }
        let (va, vb) = (
            grid[a].1.map_or(0.0, |v| v.0),
            grid[b].1.map_or(0.0, |v| v.0),
        );
        for (k, slot) in grid.iter_mut().enumerate().take(b).skip(a + 1) {
            let value = match fill {
                GapFill::Linear => va + (vb - va) * ((k - a) as f64 / (b - a) as f64),
                GapFill::Hold => va,
            };
            slot.1 = Some((value, true));
        }
    }
    grid
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_767_225_600 + secs, 0).single().unwrap()
    }

    #[test]
    fn short_gaps_are_interpolated_and_flagged_long_ones_stay_missing() {
        let bins: BTreeMap<i64, f64> = [(0, 0.0), (300, 3.0), (1500, 9.0), (3600, 1.0)]
            .into_iter()
            .collect();
        let grid = fill_gaps(&bins, 300, 3, GapFill::Linear);
        let values: Vec<Option<(f64, bool)>> = grid.iter().map(|(_, v)| *v).collect();
        assert_eq!(values[0], Some((0.0, false)));
        assert_eq!(values[1], Some((3.0, false)));
        assert_eq!(
            values[2],
            Some((4.5, true)),
            "3 missing bins between 300 and 1500: filled"
        );
        assert_eq!(values[5], Some((9.0, false)));
        assert_eq!(
            values[6], None,
            "6 missing bins between 1500 and 3600: left missing"
        );
    }

    proptest! {
        #[test]
        fn bin_means_equal_a_naive_recomputation(samples in proptest::collection::vec((0i64..20_000, -50.0f64..50.0), 1..200)) {
            let points: Vec<_> = samples.iter().map(|(s, v)| (at(*s), *v)).collect();
            let bins = resample(&points, 300);
            for (bin, mean) in &bins {
                let members: Vec<f64> = points.iter().filter(|(t, _)| bin_of(*t, 300) == *bin).map(|(_, v)| *v).collect();
                let naive = members.iter().sum::<f64>() / members.len() as f64;
                prop_assert!((mean - naive).abs() < 1e-9);
            }
            prop_assert_eq!(bins.len(), points.iter().map(|(t, _)| bin_of(*t, 300)).collect::<std::collections::BTreeSet<_>>().len());
        }
    }
}
