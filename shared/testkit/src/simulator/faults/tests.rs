use chrono::TimeZone;
use edgeops_contracts::{Reading, ReadingLimits, RejectCode};

use super::*;

const DAY_OF_MINUTES: i64 = 24 * 60;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, 0, 0, 0).unwrap()
}

/// The payloads of one room, one a minute, for `minutes` (dropouts leave `None`).
fn run(faults: SensorFaults, minutes: i64) -> Vec<Option<String>> {
    let mut sensor = Sensor::new(Room::new("room-001", 11), faults);
    (0..minutes)
        .map(|minute| sensor.step(start() + Duration::minutes(minute), 60.0))
        .collect()
}

fn parse(payload: &str) -> Result<Reading, edgeops_contracts::Rejection> {
    Reading::from_message(
        "edgeops.raw.s1.room-001",
        payload.as_bytes(),
        Utc::now(),
        &ReadingLimits::default(),
    )
}

fn mean_of(payloads: &[Option<String>], metric: &str) -> f64 {
    let values: Vec<f64> = payloads
        .iter()
        .flatten()
        .map(|p| parse(p).unwrap().metrics[metric])
        .collect();
    values.iter().sum::<f64>() / values.len() as f64
}

#[test]
fn a_healthy_sensor_sends_exactly_what_the_room_reads() {
    let mut room = Room::new("room-001", 11);
    let healthy = run(SensorFaults::default(), 600);
    for (minute, payload) in healthy.iter().enumerate() {
        let at = start() + Duration::minutes(minute as i64);
        assert_eq!(payload.as_deref(), Some(room.step(at, 60.0).as_str()));
    }
}

#[test]
fn drift_moves_the_mean_by_the_configured_rate() {
    let days = 4;
    let healthy = run(SensorFaults::default(), days * DAY_OF_MINUTES);
    let drifting = run(
        SensorFaults {
            co2_drift_ppm_per_day: 25.0,
            temperature_drift_c_per_day: -0.5,
            ..SensorFaults::default()
        },
        days * DAY_OF_MINUTES,
    );
    // Over the last day the offset grows from 3 to 4 days' worth: 3.5 on average.
    let last_day = |p: &[Option<String>]| p[(3 * DAY_OF_MINUTES) as usize..].to_vec();
    let co2 = mean_of(&last_day(&drifting), "co2_ppm") - mean_of(&last_day(&healthy), "co2_ppm");
    let temp = mean_of(&last_day(&drifting), "temperature_c")
        - mean_of(&last_day(&healthy), "temperature_c");
    assert!((co2 - 25.0 * 3.5).abs() < 0.1, "co2 moved {co2}");
    assert!((temp + 0.5 * 3.5).abs() < 0.01, "temperature moved {temp}");
    // And not at all on the first reading.
    assert_eq!(healthy[0], drifting[0]);
}

#[test]
fn a_stuck_sensor_repeats_the_value_it_froze_on() {
    let payloads = run(
        SensorFaults {
            stuck_after: Some(Duration::hours(9)),
            ..SensorFaults::default()
        },
        DAY_OF_MINUTES,
    );
    let readings: Vec<Reading> = payloads
        .iter()
        .flatten()
        .map(|p| parse(p).unwrap())
        .collect();
    let frozen = &readings[9 * 60].metrics;
    assert!(readings[9 * 60..].iter().all(|r| &r.metrics == frozen));
    assert!(readings[9 * 60..].windows(2).all(|w| w[0].ts < w[1].ts));
    let before: std::collections::BTreeSet<String> = readings[..9 * 60]
        .iter()
        .map(|r| format!("{:?}", r.metrics))
        .collect();
    assert!(before.len() > 100, "a working sensor varies");
}

#[test]
fn dropouts_drop_the_configured_share() {
    for share in [0.05, 0.2, 0.5] {
        let payloads = run(
            SensorFaults {
                dropout_share: share,
                ..SensorFaults::default()
            },
            20_000,
        );
        let dropped = payloads.iter().filter(|p| p.is_none()).count() as f64 / 20_000.0;
        assert!(
            (dropped - share).abs() < 0.015,
            "{share}: dropped {dropped}"
        );
    }
}

#[test]
fn spikes_are_outliers_ingest_still_accepts() {
    let healthy = run(SensorFaults::default(), 10_000);
    let spiky = run(
        SensorFaults {
            spike_share: 0.02,
            ..SensorFaults::default()
        },
        10_000,
    );
    let mut spikes = 0;
    for (healthy, spiky) in healthy.iter().flatten().zip(spiky.iter().flatten()) {
        let (h, s) = (parse(healthy).unwrap(), parse(spiky).unwrap());
        if h != s {
            let co2 = (s.metrics["co2_ppm"] / h.metrics["co2_ppm"] - 4.0).abs() < 0.01;
            let temp =
                (s.metrics["temperature_c"] - h.metrics["temperature_c"] - 20.0).abs() < 0.01;
            assert!(co2 != temp, "one outlier per spike: {healthy} -> {spiky}");
            spikes += 1;
        }
    }
    assert!((150..=250).contains(&spikes), "{spikes} spikes in 10,000");
}

#[test]
fn nan_firmware_is_refused_as_not_a_number() {
    let payloads = run(
        SensorFaults {
            nan_share: 0.1,
            ..SensorFaults::default()
        },
        2_000,
    );
    let mut refused = 0;
    for payload in payloads.iter().flatten() {
        match parse(payload) {
            Ok(_) => assert!(!payload.contains("NaN")),
            Err(rejection) => {
                assert_eq!(rejection.code, RejectCode::NotANumber, "{payload}");
                assert!(payload.contains(r#""co2_ppm":NaN"#), "{payload}");
                refused += 1;
            }
        }
    }
    assert!((150..=250).contains(&refused), "{refused} refused of 2,000");
}

#[test]
fn draws_are_uniform_enough() {
    let draws: Vec<f64> = (0..100_000).map(|t| draw(7, t, DROPOUT)).collect();
    assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
    let mean = draws.iter().sum::<f64>() / draws.len() as f64;
    assert!((mean - 0.5).abs() < 0.01, "{mean}");
}
