use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};
use edgeops_contracts::{Reading, ReadingLimits};
use proptest::prelude::*;

use super::*;
use crate::reduction::plan::sequence_of_message_id;

/// A planned message of `device` at local `sequence`, as the planner writes it.
fn planned(device: u8, sequence: u64, body: Body) -> Outgoing {
    let ts =
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::seconds(sequence as i64);
    let (subject, payload, message_id) = match body {
        Body::Aggregates => (
            format!("edgeops.aggregates.s1.d{device}"),
            format!(r#"[{{"metric":"co2_ppm","seq":{sequence}}}]"#),
            format!("s1:{sequence}:aggregates"),
        ),
        Body::Reading => (
            format!("edgeops.readings.s1.d{device}"),
            format!(
                r#"{{"ts":"{}","metrics":{{"co2_ppm":{sequence}}}}}"#,
                ts.to_rfc3339()
            ),
            format!("s1:{sequence}"),
        ),
        Body::Unchecked => (
            format!("edgeops.readings.s1.d{device}"),
            "not json".to_owned(),
            format!("s1:{sequence}"),
        ),
        Body::DeadLetter => (
            "edgeops.dlq.gateway-s1.foreign_site".to_owned(),
            format!(r#"{{"seq":{sequence},"padding":"{}"}}"#, "x".repeat(400)),
            format!("s1:{sequence}:dead_letter"),
        ),
    };
    Outgoing {
        subject,
        payload: payload.into_bytes(),
        message_id,
        sequence,
        body,
    }
}

/// What a packed message carries, one entry per planned message, as the hub side reads it.
fn unpack(message: &HubMessage) -> Vec<String> {
    if message.subject.starts_with("edgeops.dlq.") {
        // Never packed with another, never compressed: readable in `nats stream view`.
        let item: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        return vec![format!("dead letter {}", item["seq"])];
    }
    if message.subject.starts_with("edgeops.aggregates.") {
        let text = edgeops_contracts::compression::decompressed(&message.payload, 1 << 20).unwrap();
        let items: Vec<serde_json::Value> = serde_json::from_slice(&text).unwrap();
        return items.iter().map(|i| format!("agg {}", i["seq"])).collect();
    }
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    Reading::all_from_message(
        &message.subject,
        &message.payload,
        now,
        &ReadingLimits::default(),
    )
    .into_iter()
    .map(|verdict| match verdict {
        Ok(reading) => format!("reading {}", reading.metrics["co2_ppm"]),
        Err(rejection) => format!("refused {}", rejection.code.as_str()),
    })
    .collect()
}

fn expected(message: &Outgoing) -> String {
    match message.body {
        Body::Aggregates => format!("agg {}", message.sequence),
        Body::Reading => format!("reading {}", message.sequence),
        Body::Unchecked => "refused invalid_json".to_owned(),
        Body::DeadLetter => format!("dead letter {}", message.sequence),
    }
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        8 => Just(Body::Reading),
        2 => Just(Body::Aggregates),
        1 => Just(Body::Unchecked),
        1 => Just(Body::DeadLetter),
    ]
}

proptest! {
    #[test]
    fn packing_keeps_every_message_once_in_order_per_subject(
        plan in prop::collection::vec((0u8..4, body()), 0..300),
        max_messages in 1usize..20,
        compress_from_bytes in prop::option::of(0usize..2_000),
    ) {
        let planned: Vec<Outgoing> = plan
            .iter()
            .enumerate()
            .map(|(i, (device, body))| planned(*device, i as u64 + 1, *body))
            .collect();
        let limits = PackLimits { max_messages, max_payload_bytes: 64 * 1024, compress_from_bytes };
        let packed = pack(planned.clone(), limits);

        let mut want: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for message in &planned {
            want.entry(message.subject.as_str()).or_default().push(expected(message));
        }
        let mut got: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for message in &packed {
            let carried = unpack(message);
            prop_assert!(carried.len() <= max_messages);
            got.entry(message.subject.as_str()).or_default().extend(carried);
        }
        prop_assert_eq!(got, want);

        // Each id names the highest local sequence its message carries.
        let mut last_of: BTreeMap<&str, u64> = BTreeMap::new();
        for message in &packed {
            let named = sequence_of_message_id(&message.message_id).unwrap();
            let highest = planned
                .iter()
                .filter(|p| p.subject == message.subject && p.sequence <= named)
                .map(|p| p.sequence)
                .max();
            prop_assert_eq!(highest, Some(named));
            if let Some(previous) = last_of.insert(message.subject.as_str(), named) {
                prop_assert!(named > previous, "ids rise per subject");
            }
        }
        let readings: u64 = packed.iter().map(|m| m.readings).sum();
        let planned_readings = planned
            .iter()
            .filter(|p| matches!(p.body, Body::Reading | Body::Unchecked))
            .count();
        prop_assert_eq!(readings, planned_readings as u64);
    }
}

#[test]
fn one_device_batch_costs_one_message_and_one_header() {
    let planned: Vec<Outgoing> = (1..=50).map(|s| planned(1, s, Body::Reading)).collect();
    let separate: usize = planned
        .iter()
        .map(|p| p.payload.len() + id_header_bytes(&p.message_id))
        .sum();
    let packed = pack(planned, PackLimits::default());
    assert_eq!(packed.len(), 1);
    assert_eq!(packed[0].message_id, "s1:50");
    assert_eq!(packed[0].readings, 50);
    assert!(packed[0].wire_bytes() < separate, "packing saves bytes");
}

#[test]
fn a_pack_stops_at_its_byte_limit() {
    let planned: Vec<Outgoing> = (1..=40).map(|s| planned(1, s, Body::Reading)).collect();
    let one = planned[0].payload.len();
    let limits = PackLimits {
        max_messages: 1_000,
        max_payload_bytes: one * 10,
        compress_from_bytes: None,
    };
    let packed = pack(planned, limits);
    assert!(packed.len() >= 4, "{} packs", packed.len());
    assert!(packed.iter().all(|m| m.payload.len() <= one * 10));
}

#[test]
fn a_large_pack_travels_compressed_and_a_small_one_as_text() {
    let planned: Vec<Outgoing> = (1..=50).map(|s| planned(1, s, Body::Reading)).collect();
    let as_text = PackLimits {
        compress_from_bytes: None,
        ..PackLimits::default()
    };
    let text = pack(planned.clone(), as_text).remove(0);
    let compressed = pack(planned.clone(), PackLimits::default()).remove(0);
    assert!(edgeops_contracts::compression::is_compressed(
        &compressed.payload
    ));
    assert!(
        compressed.payload.len() * 3 < text.payload.len(),
        "{} bytes compressed, {} as text",
        compressed.payload.len(),
        text.payload.len()
    );
    assert_eq!(unpack(&compressed), unpack(&text));

    let single = pack(planned[..1].to_vec(), PackLimits::default()).remove(0);
    assert!(!edgeops_contracts::compression::is_compressed(
        &single.payload
    ));
}
