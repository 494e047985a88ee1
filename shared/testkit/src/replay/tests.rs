use std::collections::BTreeSet;

use edgeops_contracts::{Reading, ReadingLimits};
use edgeops_edge_gateway::config::DEFAULT_FORWARD_BATCH;
use edgeops_edge_gateway::reduction::ReductionPolicy;

use super::*;

fn site(name: &str) -> SiteId {
    SiteId::parse(name).unwrap()
}

/// Every reading through ingest's own validation; returns them parsed.
fn validated(replay: &Replay) -> Vec<Reading> {
    let now = Utc::now();
    replay
        .readings()
        .map(|(subject, payload)| {
            Reading::from_message(&subject, payload.as_bytes(), now, &ReadingLimits::default())
                .unwrap_or_else(|r| panic!("{subject} {payload}: {r}"))
        })
        .collect()
}

#[test]
fn every_beijing_hour_becomes_a_reading_ingest_accepts() {
    let replay = Replay::embedded(Dataset::Beijing, site("beijing")).unwrap();
    assert_eq!(
        replay.stats,
        RowStats {
            rows: 43_824,
            readings: 43_824,
            missing_values: 2_067,
            ..RowStats::default()
        }
    );
    let readings = validated(&replay);
    assert!(readings.windows(2).all(|w| w[0].ts < w[1].ts));
    assert!(readings.iter().all(|r| r.device.as_str() == "station-1"));
    // 2010-01-01 00:00 in Beijing; pm2.5 is NA that hour.
    let (subject, payload) = replay.readings().next().unwrap();
    assert_eq!(subject, "edgeops.raw.beijing.station-1");
    assert_eq!(
        payload,
        r#"{"ts":"2009-12-31T16:00:00Z","metrics":{"temperature_c":-11,"dew_point_c":-21,"pressure_hpa":1021,"wind_speed_ms":1.79}}"#
    );
    assert_eq!(
        readings.last().unwrap().ts.to_rfc3339(),
        "2014-12-31T15:00:00+00:00"
    );
    let with_pm25 = readings
        .iter()
        .filter(|r| r.metrics.contains_key("pm25_ugm3"))
        .count();
    assert_eq!(with_pm25, 43_824 - 2_067);
}

#[test]
fn every_car_park_count_becomes_a_reading_ingest_accepts() {
    let replay = Replay::embedded(Dataset::Parking, site("birmingham")).unwrap();
    assert_eq!(
        replay.stats,
        RowStats {
            rows: 35_717,
            readings: 35_717 - 216,
            duplicate_rows: 216,
            out_of_range_values: 12,
            ..RowStats::default()
        }
    );
    let readings = validated(&replay);
    assert!(readings.windows(2).all(|w| w[0].ts <= w[1].ts));
    let devices: BTreeSet<&str> = readings.iter().map(|r| r.device.as_str()).collect();
    assert_eq!(devices.len(), 30);
    assert!(devices.contains("BHMBCCMKT01") && devices.contains("Broad-Street"));
    // 2016-10-04 07:59:42 in Birmingham (BST) is 06:59:42 UTC.
    let first_market = readings
        .iter()
        .find(|r| r.device.as_str() == "BHMBCCMKT01")
        .unwrap();
    assert_eq!(first_market.ts.to_rfc3339(), "2016-10-04T06:59:42+00:00");
    assert_eq!(first_market.metrics["occupancy_count"], 61.0);
    assert_eq!(first_market.metrics["capacity_count"], 577.0);
    // The negative counts lost their occupancy but kept their capacity.
    let capacity_only = readings
        .iter()
        .filter(|r| !r.metrics.contains_key("occupancy_count"))
        .count();
    assert_eq!(capacity_only, 12);
}

#[test]
fn bad_rows_are_counted_not_fatal() {
    let csv = "\u{feff}SystemCodeNumber,Capacity,Occupancy,LastUpdated\r\n\
        P1,100,10,2016-11-01 08:00:00\r\n\
        P1,100,10\r\n\
        P1,100,10,2016-13-01 08:00:00\r\n\
        P1,lots,10,2016-11-01 08:30:00\r\n\
        P1,NA,NA,2016-11-01 09:00:00\r\n\
        P1,100,-3,2016-11-01 09:30:00\r\n\
        P1,100,11,2016-11-01 08:00:00\r\n\
        \r\n\
        Car Park #2,50,NaN,2016-11-01 07:00:00\r\n";
    let replay = Replay::load(Dataset::Parking, csv, site("b")).unwrap();
    assert_eq!(
        replay.stats,
        RowStats {
            rows: 8,
            readings: 3,
            unparseable_rows: 3,
            rows_without_metrics: 1,
            duplicate_rows: 1,
            missing_values: 2,
            out_of_range_values: 2,
        }
    );
    let readings: Vec<(String, String)> = replay.readings().collect();
    assert_eq!(
        readings,
        vec![
            (
                "edgeops.raw.b.Car-Park--2".to_owned(),
                r#"{"ts":"2016-11-01T07:00:00Z","metrics":{"capacity_count":50}}"#.to_owned()
            ),
            (
                "edgeops.raw.b.P1".to_owned(),
                r#"{"ts":"2016-11-01T08:00:00Z","metrics":{"occupancy_count":10,"capacity_count":100}}"#.to_owned()
            ),
            (
                "edgeops.raw.b.P1".to_owned(),
                r#"{"ts":"2016-11-01T09:30:00Z","metrics":{"capacity_count":100}}"#.to_owned()
            ),
        ]
    );
}

#[test]
fn the_wrong_file_is_an_error() {
    let err = Replay::load(Dataset::Beijing, Dataset::Parking.embedded_csv(), site("x"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not the Beijing data set"), "{err}");
    assert!(Replay::load(Dataset::Parking, "", site("x")).is_err());
}

#[test]
fn a_dry_run_counts_what_the_policy_sends() {
    let replay = Replay::embedded(Dataset::Parking, site("birmingham")).unwrap();
    let readings = || replay.readings().take(3_000);
    let all = measure(
        &ReductionPolicy::forward_all(),
        &replay.site,
        readings(),
        Utc::now(),
        DEFAULT_FORWARD_BATCH,
    );
    assert_eq!(all.raw_readings, 3_000);
    assert_eq!(all.forwarded_readings, 3_000);
    assert_eq!(all.aggregate_messages, 0);
    assert_eq!(all.forwarded_by_kind["change"], 3_000);
    let raw: u64 = readings().map(|(_, p)| p.len() as u64).sum();
    assert_eq!(all.raw_bytes, raw);

    let reduced = measure(
        &ReductionPolicy::fleet_default(),
        &replay.site,
        readings(),
        Utc::now(),
        DEFAULT_FORWARD_BATCH,
    );
    assert!(reduced.forwarded_readings < all.forwarded_readings);
    assert_eq!(
        reduced.aggregate_messages, 0,
        "half-hourly data: no window holds enough samples to summarise"
    );
    assert!(reduced.forwarded_bytes < all.forwarded_bytes);
    let attributed: u64 = reduced.bytes_by_metric.values().sum();
    assert!(attributed <= reduced.selected_bytes);
    assert!(reduced.selected_bytes < all.selected_bytes);
    assert!(reduced.bytes_by_metric.contains_key("occupancy_count"));
    assert!(
        (reduced.byte_ratio() - reduced.forwarded_bytes as f64 / reduced.raw_bytes as f64).abs()
            < 1e-12
    );
    assert!(
        reduced.forwarded_messages < reduced.forwarded_readings,
        "30 car parks per batch: readings travel packed"
    );

    let trickle = measure(
        &ReductionPolicy::fleet_default(),
        &replay.site,
        readings(),
        Utc::now(),
        1,
    );
    assert_eq!(trickle.forwarded_readings, reduced.forwarded_readings);
    assert_eq!(
        trickle.forwarded_messages, trickle.forwarded_readings,
        "one reading per batch: one hub message per reading"
    );
    assert!(trickle.forwarded_bytes > reduced.forwarded_bytes);
}

/// The figure the reduction is judged by: the default policy, at the gateway's default batch,
/// sends at most a tenth of the shipped data sets' raw bytes (packs per device, compressed).
#[test]
fn the_default_policy_sends_at_most_a_tenth_of_the_shipped_data_sets_bytes() {
    for dataset in [Dataset::Beijing, Dataset::Parking] {
        let replay = Replay::embedded(dataset, site("shipped")).unwrap();
        let report = measure(
            &ReductionPolicy::fleet_default(),
            &replay.site,
            replay.readings(),
            Utc::now(),
            DEFAULT_FORWARD_BATCH,
        );
        assert!(
            report.raw_readings > 30_000,
            "{dataset:?}: the whole data set"
        );
        assert!(
            report.byte_ratio() <= 0.10,
            "{dataset:?}: {} of {} raw bytes forwarded ({:.1}%)",
            report.forwarded_bytes,
            report.raw_bytes,
            100.0 * report.byte_ratio()
        );
    }
}
