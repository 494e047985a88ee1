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

#[test]
fn a_number_beyond_a_64_bit_float_is_out_of_range_naming_its_metric() {
    let digits = "9".repeat(400);
    for number in ["1e400", "-1e400", "1.5E+309", digits.as_str()] {
        let payload =
            format!(r#"{{"ts":"2026-11-22T11:00:00Z","metrics":{{"co2_ppm":{number}}}}}"#);
        let rejection = parse(&payload).unwrap_err();
        assert_eq!(rejection.code, RejectCode::OutOfRange, "{payload}");
        assert!(
            rejection.detail.contains("metrics.co2_ppm")
                && rejection.detail.contains("64-bit float"),
            "{rejection}"
        );
    }
    // Tiny numbers round to zero; only the large ones fail.
    assert!(parse(r#"{"ts":"2026-11-22T11:00:00Z","metrics":{"co2_ppm":1e-400}}"#).is_ok());
    let outside = parse(r#"{"v":1e400,"ts":"2026-11-22T11:00:00Z","metrics":{"co2_ppm":1}}"#);
    assert_eq!(outside.unwrap_err().code, RejectCode::OutOfRange);
    let bare = parse("1e400").unwrap_err();
    assert_eq!(bare.code, RejectCode::OutOfRange);
    assert!(
        bare.detail
            .starts_with("a number does not fit a 64-bit float")
    );
}

#[test]
fn a_repeated_key_is_refused_naming_the_key() {
    let cases = [
        (
            r#"{"ts":"2026-11-22T11:00:00Z","metrics":{"co2_ppm":1,"co2_ppm":2}}"#,
            "metrics.co2_ppm",
        ),
        (
            r#"{"ts":"2026-11-22T11:00:00Z","ts":"2026-11-22T11:01:00Z","metrics":{"co2_ppm":1}}"#,
            "ts",
        ),
        (
            r#"{"ts":"2026-11-22T11:00:00Z","metrics":{"co2_ppm":1},"metrics":{"co2_ppm":2}}"#,
            "metrics",
        ),
    ];
    for (payload, key) in cases {
        let rejection = parse(payload).unwrap_err();
        assert_eq!(rejection.code, RejectCode::DuplicateKey, "{payload}");
        assert!(
            rejection.detail.contains(&format!("key {key} appears")),
            "{rejection}"
        );
    }
    // The same key in two readings of a pack is no repeat.
    let two = r#"[{"ts":"2026-11-22T11:00:00Z","metrics":{"co2_ppm":1}},
                  {"ts":"2026-11-22T11:01:00Z","metrics":{"co2_ppm":2}}]"#;
    assert!(parse_all(two).iter().all(Result::is_ok));
}

#[test]
fn a_pack_refuses_only_the_reading_with_a_repeated_key_or_a_huge_number() {
    let verdicts = parse_all(
        r#"[{"ts":"2026-11-22T11:00:00Z","metrics":{"co2_ppm":600}},
            {"ts":"2026-11-22T11:01:00Z","metrics":{"co2_ppm":601,"co2_ppm":602}},
            {"ts":"2026-11-22T11:02:00Z","metrics":{"co2_ppm":1e400}},
            {"ts":"2026-11-22T11:03:00Z","metrics":{"co2_ppm":603}}]"#,
    );
    let codes: Vec<Option<RejectCode>> = verdicts
        .iter()
        .map(|verdict| verdict.as_ref().err().map(|rejection| rejection.code))
        .collect();
    assert_eq!(
        codes,
        [
            None,
            Some(RejectCode::DuplicateKey),
            Some(RejectCode::OutOfRange),
            None
        ]
    );
    assert_eq!(verdicts[3].as_ref().unwrap().metrics["co2_ppm"], 603.0);

    // A fault of the message as a whole after the split point still refuses it whole.
    let broken = parse_all(r#"[{"ts":"2026-11-22T11:00:00Z","metrics":{"a":1,"a":2}}, {no"#);
    assert_eq!(broken.len(), 1);
    assert_eq!(
        broken[0].as_ref().unwrap_err().code,
        RejectCode::InvalidJson
    );
}

/// A reading that breaks one JSON rule the parser judges per reading, and the code it earns.
fn faulty_reading(kind: usize, minute: usize) -> (String, RejectCode) {
    let ts = format!("2026-11-22T10:{minute:02}:00Z");
    match kind {
        0 => (
            format!(r#"{{"ts":"{ts}","metrics":{{"co2_ppm":1,"temperature_c":2,"co2_ppm":3}}}}"#),
            RejectCode::DuplicateKey,
        ),
        1 => (
            format!(r#"{{"ts":"{ts}","metrics":{{"co2_ppm":1}},"ts":"{ts}"}}"#),
            RejectCode::DuplicateKey,
        ),
        _ => (
            format!(r#"{{"ts":"{ts}","metrics":{{"co2_ppm":-2e308}}}}"#),
            RejectCode::OutOfRange,
        ),
    }
}

proptest! {
    #[test]
    fn a_pack_judges_each_reading_on_its_own(len in 1usize..20, bad in 0usize..20, kind in 0usize..3) {
        let bad = bad % len;
        let (faulty, code) = faulty_reading(kind, bad);
        let elements: Vec<String> = (0..len)
            .map(|i| if i == bad {
                faulty.clone()
            } else {
                format!(r#"{{"ts":"2026-11-22T10:{i:02}:00Z","metrics":{{"co2_ppm":{i}}}}}"#)
            })
            .collect();
        let verdicts = parse_all(&format!("[{}]", elements.join(",")));
        prop_assert_eq!(verdicts.len(), len);
        for (i, verdict) in verdicts.iter().enumerate() {
            match verdict {
                Ok(reading) => {
                    prop_assert!(i != bad);
                    prop_assert_eq!(reading.metrics["co2_ppm"], i as f64);
                }
                Err(rejection) => {
                    prop_assert_eq!(i, bad);
                    prop_assert_eq!(rejection.code, code);
                }
            }
        }
        // Alone, the faulty reading earns the same code.
        prop_assert_eq!(parse(&faulty).unwrap_err().code, code);
    }
}
