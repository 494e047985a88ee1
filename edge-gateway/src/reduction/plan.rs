//! From one raw message to what the gateway sends to the hub. Pure: the forwarder only publishes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use edgeops_contracts::{DeviceId, Reading, ReadingLimits, SiteId, subjects};
use serde_json::Value;

use super::policy::ReductionPolicy;
use super::reducer::{ForwardKind, Reducer};
use super::set_aside;

/// A message for the hub, with the id JetStream de-duplicates on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Outgoing {
    pub subject: String,
    pub payload: Vec<u8>,
    pub message_id: String,
    /// The local stream sequence of the raw reading it comes from.
    pub sequence: u64,
    pub body: Body,
}

/// What an [`Outgoing`] message carries, which decides how it may be packed with others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Body {
    /// One reduced reading (a JSON object).
    Reading,
    /// A JSON array of window aggregates.
    Aggregates,
    /// A raw payload the gateway could not validate, forwarded as it came for ingest to judge.
    Unchecked,
    /// The dead letter of a message set aside at the site (see [`super::set_aside`]); it goes
    /// to the hub's dead letters, and a copy stays in the site's.
    DeadLetter,
}

/// The local sequence a forwarded message's `Nats-Msg-Id` (`<site>:<sequence>[:suffix]`) names.
pub fn sequence_of_message_id(message_id: &str) -> Option<u64> {
    message_id.split(':').nth(1)?.parse().ok()
}

/// Reducers per device of one site. `Clone` so a batch that fails to publish can be re-planned
/// from the state before it.
#[derive(Default, Clone)]
pub struct SitePlanner {
    reducers: HashMap<DeviceId, Reducer>,
}

impl SitePlanner {
    /// Plans the hub messages for the raw message at local `sequence`.
    ///
    /// A message no hub could accept, or that names another site, is set aside as a dead
    /// letter (see [`super::set_aside`]). Any other reading that fails validation is not the
    /// gateway's to judge: it travels unchanged (minus any local-only metric) and ingest
    /// dead-letters it at the hub with the reason.
    pub fn plan(
        &mut self,
        policy: &ReductionPolicy,
        site: &SiteId,
        sequence: u64,
        raw_subject: &str,
        payload: &[u8],
        now: DateTime<Utc>,
    ) -> Vec<Outgoing> {
        if let Some(reason) =
            set_aside::reason_to_set_aside(site, raw_subject, payload, &ReadingLimits::default())
        {
            return vec![set_aside::dead_letter(
                site,
                sequence,
                raw_subject,
                payload,
                reason,
            )];
        }
        let Some(hub_subject) = subjects::hub_subject_for_raw(raw_subject) else {
            return Vec::new();
        };
        let message_id = format!("{site}:{sequence}");
        let reading =
            match Reading::from_message(raw_subject, payload, now, &ReadingLimits::default()) {
                Ok(reading) => reading,
                Err(_) => {
                    let payload = strip_local_only(policy, payload);
                    return vec![Outgoing {
                        subject: hub_subject,
                        payload,
                        message_id,
                        sequence,
                        body: Body::Unchecked,
                    }];
                }
            };
        let reduced = self
            .reducers
            .entry(reading.device.clone())
            .or_default()
            .offer(policy, &reading);
        let mut out = Vec::with_capacity(2);
        if let Some((kind, forwarded)) = reduced.forward {
            out.push(Outgoing {
                subject: hub_subject,
                payload: forward_payload(kind, &forwarded),
                message_id: message_id.clone(),
                sequence,
                body: Body::Reading,
            });
        }
        if !reduced.aggregates.is_empty() {
            out.push(Outgoing {
                subject: subjects::hub_aggregates(&reading.site, &reading.device),
                payload: serde_json::to_vec(&reduced.aggregates).unwrap_or_default(),
                message_id: format!("{message_id}:aggregates"),
                sequence,
                body: Body::Aggregates,
            });
        }
        out
    }
}

/// Compact: site and device are in the subject; `kind` says why it travelled.
/// A plain change carries no `kind` (it is the common case); whole values are written as
/// integers (`1021`, not `1021.0`), which JSON readers parse to the same number.
fn forward_payload(kind: ForwardKind, reading: &Reading) -> Vec<u8> {
    let metrics: serde_json::Map<String, Value> = reading
        .metrics
        .iter()
        .map(|(key, value)| (key.clone(), compact_number(*value)))
        .collect();
    let mut value = serde_json::json!({
        "ts": reading.ts.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        "metrics": metrics,
    });
    if kind != ForwardKind::Change {
        value["kind"] = serde_json::json!(kind);
    }
    serde_json::to_vec(&value).unwrap_or_default()
}

/// Largest magnitude below which every integer is exact in an f64.
const EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

fn compact_number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < EXACT_INTEGER {
        Value::from(value as i64)
    } else {
        Value::from(value)
    }
}

/// NATS framing of a forwarded message's headers (`NATS/1.0`, `Nats-Msg-Id`, blank line).
pub(super) fn id_header_bytes(message_id: &str) -> usize {
    "NATS/1.0\r\nNats-Msg-Id: \r\n\r\n".len() + message_id.len()
}

impl Outgoing {
    /// Bytes on the uplink for this message: payload plus its de-duplication header.
    pub fn wire_bytes(&self) -> usize {
        self.payload.len() + id_header_bytes(&self.message_id)
    }
}

/// Removes local-only metrics from a payload that is a JSON object, or an array of them (several
/// readings in one message); other payloads are returned unchanged (they carry no metric to mark).
fn strip_local_only(policy: &ReductionPolicy, payload: &[u8]) -> Vec<u8> {
    if policy.local_only.is_empty() {
        return payload.to_vec();
    }
    match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(mut object)) => {
            strip_object(policy, &mut object);
            serde_json::to_vec(&Value::Object(object)).unwrap_or_default()
        }
        Ok(Value::Array(mut elements)) => {
            for element in &mut elements {
                if let Value::Object(object) = element {
                    strip_object(policy, object);
                }
            }
            serde_json::to_vec(&Value::Array(elements)).unwrap_or_default()
        }
        _ => payload.to_vec(),
    }
}

fn strip_object(policy: &ReductionPolicy, object: &mut serde_json::Map<String, Value>) {
    if let Some(Value::Object(metrics)) = object.get_mut("metrics") {
        metrics.retain(|key, _| !policy.local_only.contains(key));
    }
    object.retain(|key, _| !policy.local_only.contains(key));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s1() -> SiteId {
        SiteId::parse("s1").unwrap()
    }

    #[test]
    fn invalid_readings_travel_for_the_hub_to_refuse_but_lose_local_only_metrics() {
        let mut policy = ReductionPolicy::forward_all();
        policy.local_only.insert("occupancy_count".into());
        let payload = br#"{"ts":"bad","metrics":{"occupancy_count":3,"co2_ppm":1}}"#;
        let out = SitePlanner::default().plan(
            &policy,
            &s1(),
            7,
            "edgeops.raw.s1.d1",
            payload,
            Utc::now(),
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].subject, "edgeops.readings.s1.d1");
        assert_eq!(out[0].message_id, "s1:7");
        let text = String::from_utf8(out[0].payload.clone()).unwrap();
        assert!(
            !text.contains("occupancy_count") && text.contains("co2_ppm"),
            "{text}"
        );
    }

    #[test]
    fn message_ids_name_their_local_sequence() {
        assert_eq!(sequence_of_message_id("s1:42"), Some(42));
        assert_eq!(sequence_of_message_id("s1:42:aggregates"), Some(42));
        assert_eq!(sequence_of_message_id("copy-1"), None);
    }

    #[test]
    fn forwarded_payloads_are_readings_ingest_accepts() {
        let policy = ReductionPolicy::forward_all();
        let payload = br#"{"ts":"2026-01-01T00:00:00Z","metrics":{"co2_ppm":612.5}}"#;
        let out = SitePlanner::default().plan(
            &policy,
            &s1(),
            1,
            "edgeops.raw.s1.d1",
            payload,
            Utc::now(),
        );
        let reading = Reading::from_message(
            &out[0].subject,
            &out[0].payload,
            Utc::now(),
            &ReadingLimits::default(),
        )
        .unwrap();
        assert_eq!(reading.metrics["co2_ppm"], 612.5);
    }
}
