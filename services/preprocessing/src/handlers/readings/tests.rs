//! The handler's recompute without Postgres: samples delivered late and out of order, each batch
//! rebuilding only from `rebuild_bounds`, leave exactly the rows of one full computation.

// Test code: a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use edgeops_features::FeatureRow;

use super::*;

type Samples = BTreeMap<String, Vec<(DateTime<Utc>, f64)>>;

/// xorshift64*: a seeded, dependency-free source of choices.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) % n
    }
}

/// Every metric of `spec` over `bins` bins, at irregular times within the bins, with short and
/// long gaps, spikes and (for some metrics) impossible values.
fn readings(spec: &FeatureSpec, bins: i64, rng: &mut Rng) -> Vec<(String, DateTime<Utc>, f64)> {
    let start = 1_767_225_600;
    let mut out = Vec::new();
    for (m, metric) in spec.metrics.iter().enumerate() {
        let mut bin = 0;
        while bin < bins {
            if rng.below(60) == 0 {
                let max_gap = spec.max_gap_bins as u64;
                let long = rng.below(4) == 0;
                let gap = if long {
                    max_gap + 1 + rng.below(3)
                } else {
                    1 + rng.below(max_gap)
                };
                bin += gap as i64;
                continue;
            }
            let offset = rng.below(spec.interval_secs as u64) as i64;
            let ts =
                DateTime::from_timestamp(start + bin * spec.interval_secs + offset, 0).unwrap();
            let level = if metric == "pressure_hpa" {
                1000.0
            } else {
                10.0 + 3.0 * m as f64
            };
            let base = level + 5.0 * (bin as f64 / 10.0).sin();
            let value = if rng.below(25) == 0 { base * 4.0 } else { base };
            out.push((metric.clone(), ts, value));
            bin += 1;
        }
    }
    out
}

/// What the handler does, against in-memory tables: store the batch, then per batch rebuild
/// the rows from the earliest new sample's bounds.
fn deliver(spec: &FeatureSpec, batches: &[Vec<(String, DateTime<Utc>, f64)>]) -> Vec<FeatureRow> {
    let mut stored = Samples::new();
    let mut rows: BTreeMap<i64, FeatureRow> = BTreeMap::new();
    for batch in batches {
        for (metric, ts, value) in batch {
            stored
                .entry(metric.clone())
                .or_default()
                .push((*ts, *value));
        }
        let Some(earliest) = batch.iter().map(|(_, ts, _)| *ts).min() else {
            continue;
        };
        let (from_bin, load_from) = rebuild_bounds(spec, earliest);
        let loaded: Samples = stored
            .iter()
            .map(|(metric, samples)| {
                let kept = samples.iter().filter(|(ts, _)| ts.timestamp() >= load_from);
                (metric.clone(), kept.copied().collect())
            })
            .collect();
        rows.retain(|bin, _| *bin < from_bin);
        for row in compute_rows(spec, &loaded, Some(from_bin)) {
            rows.insert(row.ts.timestamp(), row);
        }
    }
    rows.into_values().collect()
}

#[test]
fn late_and_shuffled_batches_give_the_rows_of_one_full_computation() {
    for (seed, spec) in [
        (7, FeatureSpec::outdoor_pm25()),
        (11, FeatureSpec::indoor_air()),
        (13, FeatureSpec::parking_occupancy()),
    ] {
        let mut rng = Rng(seed);
        let mut all = readings(&spec, 600, &mut rng);
        all.sort_by_key(|(_, ts, _)| *ts);
        // In time order, in batches of 1..=40, each batch swapping places with a neighbour now
        // and then: most data on time, some late by a batch or two.
        let mut batches: Vec<Vec<_>> = Vec::new();
        let mut rest = all.as_slice();
        while !rest.is_empty() {
            let take = (1 + rng.below(40) as usize).min(rest.len());
            batches.push(rest[..take].to_vec());
            rest = &rest[take..];
        }
        for i in 1..batches.len() {
            if rng.below(3) == 0 {
                batches.swap(i - 1, i);
            }
        }
        let mut samples = Samples::new();
        for (metric, ts, value) in &all {
            samples
                .entry(metric.clone())
                .or_default()
                .push((*ts, *value));
        }
        let full = compute_rows(&spec, &samples, None);
        assert!(full.len() > 100, "{}: {} rows", spec.name, full.len());
        assert_eq!(deliver(&spec, &batches), full, "{}", spec.name);
    }
}

#[test]
fn a_sample_rebuilds_from_its_own_bin_with_the_load_margin_before_it() {
    let spec = FeatureSpec::outdoor_pm25();
    let ts = DateTime::from_timestamp(1_767_225_600 + 5 * 3600 + 1234, 0).unwrap();
    let (from_bin, load_from) = rebuild_bounds(&spec, ts);
    assert_eq!(from_bin, 1_767_225_600 + 5 * 3600);
    assert_eq!(load_from, from_bin - spec.load_margin_bins() as i64 * 3600);
}
