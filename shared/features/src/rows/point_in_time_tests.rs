//! Rows are point in time: the row of bin `b` is what the samples before `b`'s end say.

use chrono::TimeZone;
use proptest::prelude::*;

use super::*;
use crate::spec::{CrossDifference, GapFill};

type Samples = BTreeMap<String, Vec<(DateTime<Utc>, f64)>>;

const INTERVAL: i64 = 300;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap()
}

fn bin(i: i64) -> i64 {
    t0().timestamp() + i * INTERVAL
}

fn at(i: i64, offset_secs: i64) -> DateTime<Utc> {
    bin_time(bin(i) + offset_secs)
}

/// The test spec with outlier rejection on; `hold` switches to held, longer gaps and `cross` adds
/// a cross-metric difference.
fn spec(hold: bool, cross: bool) -> FeatureSpec {
    FeatureSpec {
        name: "test".into(),
        version: 1,
        interval_secs: INTERVAL,
        metrics: vec!["co2_ppm".into(), "temperature_c".into()],
        target: "co2_ppm".into(),
        lags: vec![1, 3],
        rolling: vec![4],
        time_of_day: true,
        cross: if cross {
            vec![CrossDifference {
                left: "co2_ppm".into(),
                right: "temperature_c".into(),
            }]
        } else {
            vec![]
        },
        max_gap_bins: if hold { 6 } else { 2 },
        gap_fill: if hold { GapFill::Hold } else { GapFill::Linear },
        hampel_half_window: 3,
        hampel_sigmas: 3.0,
    }
}

/// Per bin: nothing (a gap), a plausible value, or a spike; at an offset within the bin.
fn series(
    values: impl Strategy<Value = f64> + Clone,
) -> impl Strategy<Value = Vec<Option<(i64, f64)>>> {
    proptest::collection::vec(
        prop_oneof![
            8 => (0i64..INTERVAL, values).prop_map(Some),
            2 => Just(None),
            1 => (0i64..INTERVAL, Just(5000.0)).prop_map(Some),
        ],
        20..90,
    )
}

/// Samples from two series, shuffled by `rotate` (callers may pass unsorted vectors).
fn samples(co2: &[Option<(i64, f64)>], temp: &[Option<(i64, f64)>], rotate: usize) -> Samples {
    let points = |values: &[Option<(i64, f64)>]| {
        let mut points: Vec<(DateTime<Utc>, f64)> = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|(offset, v)| (at(i as i64, offset), v)))
            .collect();
        points.reverse();
        let len = points.len().max(1);
        points.rotate_left(rotate % len);
        points
    };
    BTreeMap::from([
        ("co2_ppm".to_owned(), points(co2)),
        ("temperature_c".to_owned(), points(temp)),
    ])
}

/// The samples with a timestamp before `end` (unix seconds).
fn before(samples: &Samples, end: i64) -> Samples {
    samples
        .iter()
        .map(|(metric, points)| {
            let known = points.iter().filter(|(ts, _)| ts.timestamp() < end);
            (metric.clone(), known.copied().collect())
        })
        .collect()
}

/// The row of `bin` exactly as defined, computed the slow way: every grid from all the samples
/// before the bin's end.
fn by_definition(spec: &FeatureSpec, samples: &Samples, bin: i64) -> Option<FeatureRow> {
    let known = before(samples, bin + spec.interval_secs);
    let reported = known
        .values()
        .flatten()
        .any(|(ts, _)| bin_of(*ts, spec.interval_secs) == bin);
    if !reported {
        return None;
    }
    let grids: BTreeMap<&str, Grid> = spec
        .metrics
        .iter()
        .map(|m| {
            let mut grid = grid(spec, m, known.get(m).map_or(&[][..], Vec::as_slice));
            hold_to(spec, &mut grid, bin);
            (m.as_str(), grid)
        })
        .collect();
    let as_of: BTreeMap<&str, AsOf> = grids
        .iter()
        .map(|(m, g)| {
            let as_of = AsOf {
                settled: g,
                recent: Grid::new(),
                recent_from: i64::MAX,
            };
            (*m, as_of)
        })
        .collect();
    row(spec, &as_of, bin)
}

fn row_at(rows: &[FeatureRow], bin: i64) -> Option<&FeatureRow> {
    rows.iter().find(|r| r.ts.timestamp() == bin)
}

proptest! {
    /// The defining property: samples after the end of bin `b`, whatever they are, never change
    /// the row of `b` (nor of any earlier bin).
    #[test]
    fn samples_after_a_bins_end_never_change_its_row(
        co2 in series(400.0f64..900.0),
        temp in series(15.0f64..25.0),
        later in proptest::collection::vec((0i64..30 * INTERVAL, prop_oneof![400.0f64..900.0, Just(5000.0)], any::<bool>()), 1..20),
        cut in 0i64..90,
        hold in any::<bool>(),
    ) {
        let spec = spec(hold, false);
        let base = samples(&co2, &temp, 0);
        let end = bin(cut) + INTERVAL;
        let mut more = base.clone();
        for (after, value, is_co2) in later {
            let metric = if is_co2 { "co2_ppm" } else { "temperature_c" };
            more.get_mut(metric).unwrap().push((bin_time(end + after), value));
        }
        let known_then = |rows: Vec<FeatureRow>| -> Vec<FeatureRow> {
            rows.into_iter().filter(|r| r.ts.timestamp() < end).collect()
        };
        prop_assert_eq!(
            known_then(compute_rows(&spec, &more, None)),
            known_then(compute_rows(&spec, &base, None))
        );
    }

    /// What the edge relies on: the row of `b` from all samples equals the row of `b` from only
    /// the samples before `b`'s end (including whether there is one).
    #[test]
    fn a_row_from_all_samples_equals_the_row_from_the_samples_before_its_end(
        co2 in series(400.0f64..900.0),
        temp in series(15.0f64..25.0),
        hold in any::<bool>(),
        rotate in 0usize..100,
    ) {
        let spec = spec(hold, false);
        let all = samples(&co2, &temp, rotate);
        let rows = compute_rows(&spec, &all, None);
        for i in 0..co2.len().max(temp.len()) as i64 {
            let b = bin(i);
            let alone = compute_rows(&spec, &before(&all, b + INTERVAL), Some(b));
            prop_assert_eq!(row_at(&rows, b), row_at(&alone, b), "bin {}", i);
        }
    }

    /// The efficient computation (settled grids plus a recomputed recent tail, samples sorted
    /// once) equals the definition computed the slow way, row for row, from unsorted input.
    #[test]
    fn rows_equal_the_definition_computed_the_slow_way(
        co2 in series(400.0f64..900.0),
        temp in series(15.0f64..25.0),
        hold in any::<bool>(),
        cross in any::<bool>(),
        rotate in 0usize..100,
    ) {
        let spec = spec(hold, cross);
        let all = samples(&co2, &temp, rotate);
        let rows = compute_rows(&spec, &all, None);
        let expected: Vec<FeatureRow> = (0..co2.len().max(temp.len()) as i64)
            .filter_map(|i| by_definition(&spec, &all, bin(i)))
            .collect();
        prop_assert_eq!(rows, expected);
    }
}

fn column(spec: &FeatureSpec, name: &str) -> usize {
    spec.names().iter().position(|n| n == name).unwrap()
}

/// A gap at a row's own bin was filled towards the next value before: the row of bin 8 held a
/// temperature half-way to bin 9's. As of bin 8's close bin 9 is unknown, so there is no row;
/// the row of bin 9 knows both sides and fills bin 8 in its history.
#[test]
fn a_gap_at_a_rows_own_bin_is_not_filled_from_the_next_value() {
    let mut spec = spec(false, false);
    spec.hampel_sigmas = 1e9;
    let co2: Vec<_> = (0..12).map(|i| Some((10, 500.0 + f64::from(i)))).collect();
    let mut temp: Vec<_> = (0..12).map(|_| Some((10, 20.0))).collect();
    temp[8] = None;
    temp[9] = Some((10, 30.0));
    let all = samples(&co2, &temp, 0);

    let rows = compute_rows(&spec, &all, None);
    assert!(
        row_at(&rows, bin(8)).is_none(),
        "bin 8 would need bin 9's value"
    );
    let finally = bin_values(&spec, "temperature_c", &all["temperature_c"]);
    assert_eq!(
        finally[&bin(8)],
        (25.0, true),
        "the value as finally known (labels, actuals) does use bin 9"
    );
    let next = row_at(&rows, bin(9)).unwrap();
    assert_eq!(next.values[column(&spec, "temperature_c")], 30.0);
    assert_eq!(next.values[column(&spec, "temperature_c_lag1")], 25.0);
    assert!(next.interpolated);
}

/// A level shift looks like a spike when it first appears; only the bins after it show it is
/// real. The centred Hampel window used to see those later bins and keep bin 10 (a row with
/// 800); as of bin 10's close the window ends at bin 10, so bin 10 is rejected and has no row.
#[test]
fn a_hampel_decision_does_not_wait_for_later_bins() {
    let spec = spec(false, false);
    let level = |i: i64| {
        let noise = [0.0, 1.0, -1.0][i as usize % 3];
        if i < 10 { 500.0 + noise } else { 800.0 + noise }
    };
    let co2: Vec<_> = (0..16).map(|i| Some((10, level(i)))).collect();
    let temp: Vec<_> = (0..16).map(|_| Some((10, 20.0))).collect();
    let all = samples(&co2, &temp, 0);

    let finally = bin_values(&spec, "co2_ppm", &all["co2_ppm"]);
    assert_eq!(
        finally[&bin(10)],
        (level(10), false),
        "with the later bins the centred window keeps the shift"
    );
    let rows = compute_rows(&spec, &all, None);
    assert!(
        row_at(&rows, bin(10)).is_none(),
        "as of its close, bin 10 is an outlier of bins 7..=10"
    );
    let later = row_at(&rows, bin(13)).unwrap();
    assert_eq!(later.values[column(&spec, "co2_ppm")], level(13));
}

/// A dead-band-reduced series sends nothing while it holds still: as of a bin where only the
/// temperature reported, the CO2 of four bins ago still holds (flagged), so there is a row; six
/// bins of silence later it no longer does, and a row needs a CO2 reading of its own.
#[test]
fn a_quiet_held_value_makes_a_row_where_only_another_input_reported() {
    let mut spec = spec(true, false);
    spec.hampel_sigmas = 1e9;
    spec.max_gap_bins = 4;
    let mut co2: Vec<_> = (0..20).map(|i| Some((10, 500.0 + f64::from(i)))).collect();
    for quiet in co2.iter_mut().skip(8) {
        *quiet = None;
    }
    let mut temp: Vec<_> = (0..20).map(|i| (i < 8).then_some((10, 20.0))).collect();
    temp[11] = Some((20, 21.0));
    temp[13] = Some((20, 22.0));
    let all = samples(&co2, &temp, 0);

    let rows = compute_rows(&spec, &all, None);
    let held = row_at(&rows, bin(11)).expect("CO2 holds four bins on");
    assert_eq!(held.values[column(&spec, "co2_ppm")], 507.0);
    assert_eq!(held.values[column(&spec, "temperature_c")], 21.0);
    assert!(held.interpolated);
    assert!(
        row_at(&rows, bin(10)).is_none(),
        "nothing reported in bin 10"
    );
    assert!(
        row_at(&rows, bin(13)).is_none(),
        "five bins of CO2 silence: past the hold"
    );
}
