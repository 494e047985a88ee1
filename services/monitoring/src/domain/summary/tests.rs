use chrono::{TimeZone, Utc};
use edgeops_contracts::monitoring::{ModelWindow, PairedErrorSums, WINDOW_SECS};
use edgeops_contracts::{DeviceId, SiteId};

use super::*;

const SUBJECT: &str = "edgeops.summaries.s1.room-1";

fn summary() -> WindowSummary {
    WindowSummary {
        site: SiteId::parse("s1").unwrap(),
        device: DeviceId::parse("room-1").unwrap(),
        window_start: Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap(),
        window_secs: WINDOW_SECS,
        readings: 120,
        last_reading_at: Some(Utc.with_ymd_and_hms(2026, 1, 1, 10, 59, 30).unwrap()),
        stuck_metrics: Vec::new(),
        models: vec![ModelWindow {
            model: "co2-room".into(),
            version: 3,
            metric: "co2".into(),
            horizon_bins: 12,
            error: PairedErrorSums {
                judged: 12,
                unusable: 0,
                sum_c: 1_200.0,
                sum_b: 2_400.0,
                sum_d_sq: 300_000.0,
            },
        }],
        features: Vec::new(),
        features_of: None,
    }
}

fn rejected(subject: &str, payload: &[u8]) -> RejectCode {
    read_summary(subject, payload).unwrap_err().code
}

#[test]
fn a_well_formed_summary_reads_back_as_sent() {
    let sent = summary();
    let read = read_summary(SUBJECT, &serde_json::to_vec(&sent).unwrap()).unwrap();
    assert_eq!(read, sent);
}

#[test]
fn malformed_summaries_are_refused_with_their_reason() {
    let json = |s: &WindowSummary| serde_json::to_vec(s).unwrap();
    assert_eq!(rejected(SUBJECT, b"{\"site\":"), RejectCode::InvalidJson);
    assert_eq!(rejected(SUBJECT, b"[1,2]"), RejectCode::InvalidJson);
    assert_eq!(
        rejected("edgeops.summaries.s1", &json(&summary())),
        RejectCode::InvalidSubject
    );
    assert_eq!(
        rejected("edgeops.summaries.s2.room-1", &json(&summary())),
        RejectCode::SubjectMismatch
    );
    let mut odd = summary();
    odd.window_start += chrono::Duration::minutes(7);
    assert_eq!(rejected(SUBJECT, &json(&odd)), RejectCode::OutOfRange);
    let mut uneven = summary();
    uneven.window_secs = 5 * 3_600;
    assert_eq!(rejected(SUBJECT, &json(&uneven)), RejectCode::OutOfRange);
    let mut day = summary();
    day.window_secs = 86_400;
    assert_eq!(
        rejected(SUBJECT, &json(&day)),
        RejectCode::OutOfRange,
        "a day starts at midnight"
    );
    day.window_start -= chrono::Duration::hours(10);
    assert!(
        read_summary(SUBJECT, &json(&day)).is_ok(),
        "a day window from midnight"
    );
    let mut negative = summary();
    negative.models[0].error.sum_c = -1.0;
    assert_eq!(rejected(SUBJECT, &json(&negative)), RejectCode::NotANumber);
    let mut dotted = summary();
    dotted.models[0].model = "co2.room".into();
    assert_eq!(rejected(SUBJECT, &json(&dotted)), RejectCode::OutOfRange);
    let huge = vec![b' '; MAX_SUMMARY_BYTES + 1];
    assert_eq!(rejected(SUBJECT, &huge), RejectCode::PayloadTooLarge);
}

#[test]
fn unknown_fields_are_refused_rather_than_ignored() {
    let mut value = serde_json::to_value(summary()).unwrap();
    value["surprise"] = serde_json::json!(1);
    assert_eq!(
        rejected(SUBJECT, &serde_json::to_vec(&value).unwrap()),
        RejectCode::InvalidJson
    );
}
