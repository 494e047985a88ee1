//! Why a message was refused, in a form machines can filter on (`code`) and people can read
//! (`detail`). A dead letter keeps the original bytes so nothing refused is ever lost.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Machine-readable reason codes. Stable: dashboards and alerts key on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    PayloadTooLarge,
    InvalidCompression,
    InvalidJson,
    DuplicateKey,
    NotAnObject,
    MissingField,
    WrongType,
    UnsupportedVersion,
    InvalidTimestamp,
    FutureTimestamp,
    TimestampTooOld,
    NoMetrics,
    UnknownMetric,
    UnsupportedUnit,
    NotANumber,
    OutOfRange,
    InvalidSubject,
    SubjectMismatch,
    UnknownSite,
    MaxDeliveriesExceeded,
    /// A raw reading whose subject names another site than the leaf it was published at.
    ForeignSite,
    /// The hub refused a forwarded message for a reason that retrying cannot change.
    RefusedByHub,
}

impl RejectCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PayloadTooLarge => "payload_too_large",
            Self::InvalidCompression => "invalid_compression",
            Self::InvalidJson => "invalid_json",
            Self::DuplicateKey => "duplicate_key",
            Self::NotAnObject => "not_an_object",
            Self::MissingField => "missing_field",
            Self::WrongType => "wrong_type",
            Self::UnsupportedVersion => "unsupported_version",
            Self::InvalidTimestamp => "invalid_timestamp",
            Self::FutureTimestamp => "future_timestamp",
            Self::TimestampTooOld => "timestamp_too_old",
            Self::NoMetrics => "no_metrics",
            Self::UnknownMetric => "unknown_metric",
            Self::UnsupportedUnit => "unsupported_unit",
            Self::NotANumber => "not_a_number",
            Self::OutOfRange => "out_of_range",
            Self::InvalidSubject => "invalid_subject",
            Self::SubjectMismatch => "subject_mismatch",
            Self::UnknownSite => "unknown_site",
            Self::MaxDeliveriesExceeded => "max_deliveries_exceeded",
            Self::ForeignSite => "foreign_site",
            Self::RefusedByHub => "refused_by_hub",
        }
    }
}

impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal: the code plus a sentence naming the offending field or value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct Rejection {
    pub code: RejectCode,
    pub detail: String,
}

impl Rejection {
    pub fn new(code: RejectCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }
}

/// Where a dead letter's message was when it was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterSource {
    pub stream: String,
    pub stream_sequence: u64,
    pub subject: String,
    pub deliveries: i64,
}

/// Event data of `dead_letter.recorded`: the refused message, whole, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub consumer: String,
    pub stream: String,
    pub stream_sequence: u64,
    pub subject: String,
    pub deliveries: i64,
    pub reason: Rejection,
    /// The original payload, as UTF-8 when it is, so `nats stream view` stays readable.
    pub payload_utf8: Option<String>,
    /// The original payload in hex when it is not UTF-8.
    pub payload_hex: Option<String>,
    /// The site whose gateway set the message aside (absent for the hub's consumers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// For one reading of a packed message: its position in the pack (0-based). The payload is
    /// then that reading's JSON alone, decompressed, ready to be published again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack_index: Option<usize>,
    /// Set when the payload above is only the first bytes of the original, which had this many
    /// bytes (the whole is kept in the source stream, at the sequence named, for its retention).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated_from_bytes: Option<usize>,
}

impl DeadLetter {
    pub const EVENT_TYPE: &'static str = "dead_letter.recorded";
    pub const SCHEMA_VERSION: u32 = 1;

    /// Most payload bytes a dead letter carries whole: twice the largest pack a gateway sends,
    /// and small enough that the record, escaped as JSON in the worst case, stays within the
    /// hub's 1 MiB `max_payload`. A larger original (a sensor payload far too large to be a
    /// reading) is kept as its first bytes, and the record says so.
    pub const MAX_PAYLOAD_BYTES: usize = 128 * 1024;

    /// A record of `payload` refused by `consumer` for `reason`: the payload whole up to
    /// [`Self::MAX_PAYLOAD_BYTES`], else its first bytes and the original size.
    pub fn new(
        consumer: impl Into<String>,
        source: DeadLetterSource,
        reason: Rejection,
        payload: &[u8],
    ) -> Self {
        let (kept, truncated_from_bytes) = if payload.len() > Self::MAX_PAYLOAD_BYTES {
            (&payload[..Self::MAX_PAYLOAD_BYTES], Some(payload.len()))
        } else {
            (payload, None)
        };
        let (payload_utf8, payload_hex) = Self::payload_fields(kept);
        Self {
            consumer: consumer.into(),
            stream: source.stream,
            stream_sequence: source.stream_sequence,
            subject: source.subject,
            deliveries: source.deliveries,
            reason,
            payload_utf8,
            payload_hex,
            site: None,
            pack_index: None,
            truncated_from_bytes,
        }
    }

    /// The payload this record carries (the original, or its first bytes when truncated).
    pub fn payload(&self) -> Option<Vec<u8>> {
        match (&self.payload_utf8, &self.payload_hex) {
            (Some(text), _) => Some(text.as_bytes().to_vec()),
            (None, Some(hex)) => (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect(),
            (None, None) => None,
        }
    }

    pub fn payload_fields(payload: &[u8]) -> (Option<String>, Option<String>) {
        match std::str::from_utf8(payload) {
            Ok(text) => (Some(text.to_owned()), None),
            Err(_) => (
                None,
                Some(payload.iter().map(|b| format!("{b:02x}")).collect()),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> DeadLetterSource {
        DeadLetterSource {
            stream: "READINGS_LOCAL".into(),
            stream_sequence: 7,
            subject: "edgeops.raw.s1.d1".into(),
            deliveries: 1,
        }
    }

    #[test]
    fn a_dead_letter_keeps_a_readings_worth_of_bytes_whole_and_says_when_it_cut() {
        let reason = Rejection::new(RejectCode::PayloadTooLarge, "big");
        let small = DeadLetter::new("gateway-s1", source(), reason.clone(), b"{\"a\":1}");
        assert_eq!(small.payload().as_deref(), Some(&b"{\"a\":1}"[..]));
        assert_eq!(small.truncated_from_bytes, None);
        let big = vec![b'x'; DeadLetter::MAX_PAYLOAD_BYTES + 10];
        let cut = DeadLetter::new("gateway-s1", source(), reason, &big);
        assert_eq!(cut.truncated_from_bytes, Some(big.len()));
        assert_eq!(
            cut.payload().map(|p| p.len()),
            Some(DeadLetter::MAX_PAYLOAD_BYTES)
        );
    }

    #[test]
    fn binary_payloads_travel_as_hex_and_come_back() {
        let reason = Rejection::new(RejectCode::InvalidJson, "binary");
        let record = DeadLetter::new("ingest", source(), reason, &[0xff, 0x00, 0x28]);
        assert_eq!(record.payload_hex.as_deref(), Some("ff0028"));
        assert_eq!(record.payload(), Some(vec![0xff, 0x00, 0x28]));
    }

    #[test]
    fn records_without_the_new_fields_still_read() {
        let old = r#"{"consumer":"ingest","stream":"READINGS","stream_sequence":3,"subject":"s","deliveries":1,"reason":{"code":"invalid_json","detail":"d"},"payload_utf8":"x","payload_hex":null}"#;
        let record: DeadLetter = serde_json::from_str(old).unwrap();
        assert_eq!(record.pack_index, None);
        assert_eq!(record.site, None);
    }
}
