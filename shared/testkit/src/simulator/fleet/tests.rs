use edgeops_contracts::{Reading, ReadingLimits, RejectCode};

use super::*;

fn parse(subject: &str, payload: &str) -> Result<Reading, edgeops_contracts::Rejection> {
    Reading::from_message(
        subject,
        payload.as_bytes(),
        Utc::now(),
        &ReadingLimits::default(),
    )
}

#[test]
fn a_healthy_fleet_publishes_every_room_in_time_order_and_ingest_accepts_all() {
    let fleet = Fleet::new(3, 4, 42);
    assert_eq!(fleet.len(), 12);
    let readings: Vec<Reading> = fleet
        .take(12 * 24 * 60)
        .map(|(subject, payload)| parse(&subject, &payload).unwrap_or_else(|r| panic!("{r}")))
        .collect();
    assert!(readings.windows(2).all(|w| w[0].ts <= w[1].ts));
    let devices: std::collections::BTreeSet<(String, String)> = readings
        .iter()
        .map(|r| (r.site.to_string(), r.device.to_string()))
        .collect();
    assert_eq!(devices.len(), 12);
    assert!(devices.contains(&("site-03".to_owned(), "room-004".to_owned())));
    // A day of one reading a minute per room.
    assert_eq!(
        readings.last().unwrap().ts.date_naive().to_string(),
        "2025-01-06"
    );
}

#[test]
fn same_seed_same_readings() {
    let a: Vec<_> = Fleet::new(2, 3, 7).take(500).collect();
    let b: Vec<_> = Fleet::new(2, 3, 7).take(500).collect();
    let c: Vec<_> = Fleet::new(2, 3, 8).take(500).collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn faults_apply_to_the_room_they_are_set_on() {
    let mut fleet = Fleet::new(2, 3, 7);
    fleet.faults_mut(1, 0).unwrap().nan_share = 1.0;
    assert!(fleet.faults_mut(2, 0).is_none());
    for (subject, payload) in fleet.take(6 * 100) {
        match parse(&subject, &payload) {
            Ok(reading) => assert_ne!(
                (reading.site.as_str(), reading.device.as_str()),
                ("site-02", "room-001")
            ),
            Err(rejection) => {
                assert_eq!(subject, "edgeops.raw.site-02.room-001");
                assert_eq!(rejection.code, RejectCode::NotANumber);
            }
        }
    }
}

#[test]
fn dropouts_thin_the_fleet_and_a_silent_fleet_ends() {
    let mut fleet = Fleet::new(1, 2, 3).step_secs(30);
    fleet.faults_mut(0, 0).unwrap().dropout_share = 0.5;
    let readings: Vec<(String, String)> = fleet.take(3_000).collect();
    let from_first = readings
        .iter()
        .filter(|(s, _)| s.ends_with("room-001"))
        .count() as f64;
    let from_second = readings.len() as f64 - from_first;
    assert!(
        (from_first / from_second - 0.5).abs() < 0.05,
        "{from_first} / {from_second}"
    );

    let mut silent = Fleet::new(1, 1, 3);
    silent.faults_mut(0, 0).unwrap().dropout_share = 1.0;
    assert_eq!(silent.next(), None);
}
