//! Malformed readings go to the dead-letter stream with a machine-readable reason, and ingest
//! keeps running; redelivered or re-sent readings never duplicate a row.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use edgeops_contracts::envelope::EventEnvelope;
use edgeops_contracts::{DeadLetter, RejectCode, events, streams};
use edgeops_integration_tests::services::spawn_ingest;
use edgeops_integration_tests::{TestStack, check, wait_until};
use futures::StreamExt;

use crate::support::{count_rows, hub_subject, reading_json, wait_for_rows};

/// (subject, payload, the reason ingest must give)
fn malformed() -> Vec<(String, Vec<u8>, RejectCode)> {
    let ok_ts = r#""ts":"2026-01-01T00:00:00Z""#;
    let on = |device: &str| hub_subject("s1", device);
    vec![
        (on("d01"), b"{not json".to_vec(), RejectCode::InvalidJson),
        (
            on("d02"),
            br#"{"metrics":{"co2_ppm":500}}"#.to_vec(),
            RejectCode::MissingField,
        ),
        (
            on("d03"),
            br#"{"ts":1767225600,"metrics":{"co2_ppm":500}}"#.to_vec(),
            RejectCode::WrongType,
        ),
        (
            on("d04"),
            format!(r#"{{{ok_ts},"metrics":{{"co2_ppm":NaN}}}}"#).into_bytes(),
            RejectCode::NotANumber,
        ),
        (
            on("d05"),
            format!(r#"{{{ok_ts},"metrics":{{"humidity_pct":250}}}}"#).into_bytes(),
            RejectCode::OutOfRange,
        ),
        (
            on("d06"),
            br#"{"ts":"2099-01-01T00:00:00Z","metrics":{"co2_ppm":500}}"#.to_vec(),
            RejectCode::FutureTimestamp,
        ),
        (
            on("d07"),
            format!(
                r#"{{{ok_ts},"metrics":{{"co2_ppm":500}},"pad":"{}"}}"#,
                "x".repeat(20_000)
            )
            .into_bytes(),
            RejectCode::PayloadTooLarge,
        ),
        (
            "edgeops.readings.unknown-site.d08".into(),
            reading_json(1).into_bytes(),
            RejectCode::UnknownSite,
        ),
        (
            on("d09"),
            format!(r#"{{{ok_ts},"metrics":{{"temperature_f":70}}}}"#).into_bytes(),
            RejectCode::UnsupportedUnit,
        ),
        (
            on("d10"),
            format!(r#"{{{ok_ts},"metrics":{{"voltage_v":3.3}}}}"#).into_bytes(),
            RejectCode::UnknownMetric,
        ),
        (
            on("d11"),
            br#""a string""#.to_vec(),
            RejectCode::NotAnObject,
        ),
        (
            on("d12"),
            format!(r#"{{{ok_ts},"metrics":{{}}}}"#).into_bytes(),
            RejectCode::NoMetrics,
        ),
        (on("d13"), vec![0xff, 0xfe, 0x00], RejectCode::InvalidJson),
        (
            "edgeops.readings.s1.a.b".into(),
            reading_json(1).into_bytes(),
            RejectCode::InvalidSubject,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_readings_are_dead_lettered_with_a_reason_and_ingest_keeps_running() {
    let stack = TestStack::start(&[]).await;
    stack.register_sites(&["s1"]).await;
    let ingest = spawn_ingest(&stack);
    let js = stack.hub_js().await;
    let cases = malformed();
    for (subject, payload, _) in &cases {
        js.publish(subject.clone(), payload.clone().into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    // A good reading after the bad ones: ingest must still be working.
    js.publish("edgeops.readings.s1.good", reading_json(7).into())
        .await
        .unwrap()
        .await
        .unwrap();
    let pool = stack.pool().await;
    wait_for_rows(&pool, 1, Duration::from_secs(30)).await;

    let dead = js.get_stream(streams::DEAD_LETTERS).await.unwrap();
    wait_until(
        "every malformed reading in DEAD_LETTERS",
        Duration::from_secs(30),
        || {
            let mut dead = dead.clone();
            let want = cases.len() as u64;
            async move {
                let n = dead.info().await.map_err(|e| e.to_string())?.state.messages;
                check(n >= want, format!("{n} dead letters"))
            }
        },
    )
    .await;

    let consumer = dead
        .create_consumer(pull::OrderedConfig {
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap().take(cases.len());
    let mut by_device = BTreeMap::new();
    while let Some(message) = messages.next().await {
        let message = message.unwrap();
        let reason_header = message
            .headers
            .as_ref()
            .and_then(|h| h.get("Edgeops-Reason"))
            .map(|v| v.to_string());
        let envelope = EventEnvelope::decode(&message.payload, &events::upcasters()).unwrap();
        assert_eq!(envelope.meta.event_type, "dead_letter.recorded");
        let letter: DeadLetter = envelope.into_typed().unwrap().data;
        assert_eq!(
            reason_header.as_deref(),
            Some(letter.reason.code.as_str()),
            "header and body agree"
        );
        assert!(
            message.subject.ends_with(letter.reason.code.as_str()),
            "{}",
            message.subject
        );
        assert!(!letter.reason.detail.is_empty());
        by_device.insert(letter.subject.clone(), letter);
    }
    for (subject, payload, code) in &cases {
        let letter = by_device
            .get(subject)
            .unwrap_or_else(|| panic!("no dead letter for {subject}"));
        assert_eq!(
            letter.reason.code, *code,
            "{subject}: {}",
            letter.reason.detail
        );
        let kept = letter.payload().unwrap();
        assert_eq!(&kept, payload, "{subject}: the original bytes are kept");
    }
    assert_eq!(
        count_rows(&pool).await.unwrap(),
        1,
        "nothing malformed was written"
    );
    ingest.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_packs_bad_readings_are_dead_lettered_alone_and_readable() {
    let stack = TestStack::start(&[]).await;
    stack.register_sites(&["s1"]).await;
    let ingest = spawn_ingest(&stack);
    let js = stack.hub_js().await;
    // What a gateway sends: one device's readings as a JSON array, as a zstd frame.
    let bad = r#"{"ts":"2026-01-01T00:00:00Z","metrics":{"co2_ppm":-1}}"#;
    let pack = format!("[{},{bad},{}]", reading_json(1), reading_json(2));
    let frame = edgeops_contracts::compression::compress(pack.as_bytes());
    js.publish("edgeops.readings.s1.room-1", frame.into())
        .await
        .unwrap()
        .await
        .unwrap();
    let pool = stack.pool().await;
    wait_for_rows(&pool, 2, Duration::from_secs(30)).await;
    let letters = crate::support::wait_for_dead_letters(&js, streams::DEAD_LETTERS, 1).await;
    let (subject, letter) = &letters[0];
    assert_eq!(subject, "edgeops.dlq.ingest.out_of_range");
    assert_eq!(letter.pack_index, Some(1));
    assert_eq!(
        letter.payload_utf8.as_deref(),
        Some(bad),
        "the refused reading alone, decompressed, ready to publish again"
    );
    ingest.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_reading_delivered_again_is_written_once() {
    let stack = TestStack::start(&[]).await;
    stack.register_sites(&["s1"]).await;
    let ingest = spawn_ingest(&stack);
    let js = stack.hub_js().await;
    // Three copies with distinct message ids get past JetStream's de-duplication, as a
    // re-forwarded backlog after a long outage would.
    for copy in 0..3 {
        let publish = async_nats::jetstream::message::PublishMessage::build()
            .payload(reading_json(42).into())
            .message_id(format!("copy-{copy}"));
        js.send_publish("edgeops.readings.s1.room-1", publish)
            .await
            .unwrap()
            .await
            .unwrap();
    }
    js.publish("edgeops.readings.s1.room-1", reading_json(43).into())
        .await
        .unwrap()
        .await
        .unwrap();
    let pool = stack.pool().await;
    wait_for_rows(&pool, 2, Duration::from_secs(30)).await;

    // All four messages were settled (none left to redeliver), two of them as duplicates.
    let readings = js.get_stream(streams::HUB_READINGS).await.unwrap();
    wait_until(
        "all four messages acknowledged",
        Duration::from_secs(30),
        || {
            let readings = readings.clone();
            async move {
                let info = readings
                    .consumer_info("ingest")
                    .await
                    .map_err(|e| e.to_string())?;
                let settled = info.ack_floor.stream_sequence == 4 && info.num_ack_pending == 0;
                check(
                    settled,
                    format!("ack floor {}", info.ack_floor.stream_sequence),
                )
            }
        },
    )
    .await;
    assert_eq!(count_rows(&pool).await.unwrap(), 2);

    // And writing an already-written batch again (a redelivery after a lost ack) adds nothing.
    let rows: Vec<(
        String,
        String,
        chrono::DateTime<chrono::Utc>,
        serde_json::Value,
    )> = sqlx::query_as("SELECT site_id, device_id, observed_at, metrics FROM ingest.readings")
        .fetch_all(&pool)
        .await
        .unwrap();
    let again: Vec<_> = rows
        .into_iter()
        .map(|(site, device, ts, metrics)| edgeops_ingest::Row {
            reading: edgeops_contracts::Reading {
                site: edgeops_contracts::SiteId::parse(site).unwrap(),
                device: edgeops_contracts::DeviceId::parse(device).unwrap(),
                ts,
                metrics: serde_json::from_value(metrics).unwrap(),
            },
            hub_sequence: 1,
        })
        .collect();
    let written = edgeops_ingest::write_readings(&pool, &again).await.unwrap();
    assert_eq!((written.inserted, written.duplicates), (0, 2));
    assert_eq!(count_rows(&pool).await.unwrap(), 2);
    ingest.shutdown().await;
}
