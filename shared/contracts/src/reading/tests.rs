use super::*;
use proptest::prelude::*;

const SUBJECT: &str = "edgeops.raw.s1.room-1";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
}

fn parse(payload: &str) -> Result<Reading, Rejection> {
    Reading::from_message(
        SUBJECT,
        payload.as_bytes(),
        now(),
        &ReadingLimits::default(),
    )
}

fn code(payload: &str) -> RejectCode {
    parse(payload).expect_err(payload).code
}

#[test]
fn accepts_what_nats_pub_would_send() {
    let reading =
        parse(r#"{"ts":"2026-11-22T11:59:00Z","metrics":{"co2_ppm":612,"temperature_c":21.5}}"#)
            .unwrap();
    assert_eq!(reading.site.as_str(), "s1");
    assert_eq!(reading.device.as_str(), "room-1");
    assert_eq!(reading.metrics["co2_ppm"], 612.0);
}

#[test]
fn every_malformed_kind_has_its_own_code() {
    let cases = [
        ("{not json", RejectCode::InvalidJson),
        ("[1,2]", RejectCode::NotAnObject),
        (r#"{"metrics":{"co2_ppm":1}}"#, RejectCode::MissingField),
        (r#"{"ts":"2026-11-22T11:00:00Z"}"#, RejectCode::MissingField),
        (
            r#"{"ts":12345,"metrics":{"co2_ppm":1}}"#,
            RejectCode::WrongType,
        ),
        (
            r#"{"ts":"2026-11-22T11:00:00Z","metrics":{"co2_ppm":"high"}}"#,
            RejectCode::WrongType,
        ),
        (
            r#"{"ts":"yesterday","metrics":{"co2_ppm":1}}"#,
            RejectCode::InvalidTimestamp,
        ),
        (
            r#"{"ts":"2027-01-01T00:00:00Z","metrics":{"co2_ppm":1}}"#,
            RejectCode::FutureTimestamp,
        ),
        (
            r#"{"ts":"1970-01-01T00:00:00Z","metrics":{"co2_ppm":1}}"#,
            RejectCode::TimestampTooOld,
        ),
        (
            r#"{"ts":"2026-11-22T11:00:00Z","metrics":{"co2_ppm":NaN}}"#,
            RejectCode::NotANumber,
        ),
        (
            r#"{"ts":"2026-11-22T11:00:00Z","metrics":{"co2_ppm":"NaN"}}"#,
            RejectCode::NotANumber,
        ),
        (
            r#"{"ts":"2026-11-22T11:00:00Z","metrics":{"co2_ppm":null}}"#,
            RejectCode::NotANumber,
        ),
        (
            r#"{"ts":"2026-11-22T11:00:00Z","metrics":{"humidity_pct":140}}"#,
            RejectCode::OutOfRange,
        ),
        (
            r#"{"ts":"2026-11-22T11:00:00Z","metrics":{"temperature_f":70}}"#,
            RejectCode::UnsupportedUnit,
        ),
        (
            r#"{"ts":"2026-11-22T11:00:00Z","metrics":{"voltage_v":3}}"#,
            RejectCode::UnknownMetric,
        ),
        (
            r#"{"ts":"2026-11-22T11:00:00Z","metrics":{}}"#,
            RejectCode::NoMetrics,
        ),
        (
            r#"{"v":2,"ts":"2026-11-22T11:00:00Z","metrics":{"co2_ppm":1}}"#,
            RejectCode::UnsupportedVersion,
        ),
        (
            r#"{"device":"room-2","ts":"2026-11-22T11:00:00Z","metrics":{"co2_ppm":1}}"#,
            RejectCode::SubjectMismatch,
        ),
    ];
    for (payload, expected) in cases {
        assert_eq!(code(payload), expected, "{payload}");
    }
}

#[test]
fn refuses_oversized_payloads_before_parsing() {
    let big = format!(
        r#"{{"ts":"2026-11-22T11:00:00Z","metrics":{{"co2_ppm":1}},"pad":"{}"}}"#,
        "x".repeat(20_000)
    );
    assert_eq!(code(&big), RejectCode::PayloadTooLarge);
}

#[test]
fn refuses_subjects_that_are_not_reading_subjects() {
    let result = Reading::from_message("edgeops.raw.s1", b"{}", now(), &ReadingLimits::default());
    assert_eq!(result.unwrap_err().code, RejectCode::InvalidSubject);
}

proptest! {
    #[test]
    fn canonical_json_round_trips(co2 in 0.0f64..40_000.0, temp in -60.0f64..80.0, secs in 0i64..86_400) {
        let reading = Reading {
            site: SiteId::parse("s1").unwrap(),
            device: DeviceId::parse("room-1").unwrap(),
            ts: now() - Duration::seconds(secs) - Duration::milliseconds(secs % 1000),
            metrics: BTreeMap::from([("co2_ppm".to_owned(), co2), ("temperature_c".to_owned(), temp)]),
        };
        let bytes = serde_json::to_vec(&reading.to_json()).unwrap();
        let parsed = Reading::from_message(SUBJECT, &bytes, now(), &ReadingLimits::default()).unwrap();
        prop_assert_eq!(parsed, reading);
    }

    #[test]
    fn arbitrary_bytes_are_refused_with_a_reason_never_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Err(rejection) = Reading::from_message(SUBJECT, &bytes, now(), &ReadingLimits::default()) {
            prop_assert!(!rejection.detail.is_empty(), "a refusal always says why");
        }
    }
}

fn parse_all(payload: &str) -> Vec<Result<Reading, Rejection>> {
    Reading::all_from_message(
        "edgeops.readings.s1.room-1",
        payload.as_bytes(),
        now(),
        &ReadingLimits::default(),
    )
}

#[test]
fn a_batch_message_gives_one_verdict_per_reading_in_order() {
    let verdicts = parse_all(
        r#"[{"ts":"2026-11-22T11:00:00Z","metrics":{"co2_ppm":600}},
            {"ts":"2026-11-22T11:01:00Z","metrics":{"co2_ppm":"high"}},
            7,
            {"ts":"2026-11-22T11:02:00Z","metrics":{"co2_ppm":620}}]"#,
    );
    assert_eq!(verdicts.len(), 4);
    let first = verdicts[0].as_ref().unwrap();
    assert_eq!(
        (first.site.as_str(), first.device.as_str()),
        ("s1", "room-1")
    );
    assert_eq!(first.metrics["co2_ppm"], 600.0);
    assert_eq!(
        verdicts[1].as_ref().unwrap_err().code,
        RejectCode::WrongType
    );
    assert_eq!(
        verdicts[2].as_ref().unwrap_err().code,
        RejectCode::NotAnObject
    );
    assert_eq!(verdicts[3].as_ref().unwrap().metrics["co2_ppm"], 620.0);
}

#[test]
fn a_single_reading_still_parses_as_one() {
    let verdicts = parse_all(r#"{"ts":"2026-11-22T11:00:00Z","metrics":{"co2_ppm":600}}"#);
    assert_eq!(verdicts.len(), 1);
    assert!(verdicts[0].is_ok());
}

#[test]
fn a_batch_unusable_as_a_whole_is_one_rejection() {
    let limits = ReadingLimits {
        max_batch_readings: 2,
        ..ReadingLimits::default()
    };
    let reading = r#"{"ts":"2026-11-22T11:00:00Z","metrics":{"co2_ppm":600}}"#;
    let three = format!("[{reading},{reading},{reading}]");
    let cases: [(&str, &[u8], RejectCode); 4] = [
        (
            "edgeops.readings.s1.room-1",
            b"[1,",
            RejectCode::InvalidJson,
        ),
        (
            "edgeops.readings.s1.room-1",
            b"[]",
            RejectCode::PayloadTooLarge,
        ),
        (
            "edgeops.readings.s1.room-1",
            three.as_bytes(),
            RejectCode::PayloadTooLarge,
        ),
        ("not.a.reading", b"[{}]", RejectCode::InvalidSubject),
    ];
    for (subject, payload, expected) in cases {
        let verdicts = Reading::all_from_message(subject, payload, now(), &limits);
        assert_eq!(verdicts.len(), 1, "{subject} {payload:?}");
        assert_eq!(verdicts[0].as_ref().unwrap_err().code, expected);
    }
}

#[test]
fn a_compressed_batch_gives_the_verdicts_of_its_text() {
    let text = r#"[{"ts":"2026-11-22T11:00:00Z","metrics":{"co2_ppm":600}},
                   {"ts":"2026-11-22T11:01:00Z","metrics":{"co2_ppm":"high"}}]"#;
    let frame = crate::compression::compress(text.as_bytes());
    let verdicts = Reading::all_from_message(
        "edgeops.readings.s1.room-1",
        &frame,
        now(),
        &ReadingLimits::default(),
    );
    assert_eq!(verdicts, parse_all(text));

    let mut corrupt = frame.clone();
    corrupt.truncate(frame.len() / 2);
    let refused = Reading::all_from_message(
        "edgeops.readings.s1.room-1",
        &corrupt,
        now(),
        &ReadingLimits::default(),
    );
    assert_eq!(refused.len(), 1);
    assert_eq!(
        refused[0].as_ref().unwrap_err().code,
        RejectCode::InvalidCompression
    );
}
