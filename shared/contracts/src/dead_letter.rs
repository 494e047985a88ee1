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
}

impl DeadLetter {
    pub const EVENT_TYPE: &'static str = "dead_letter.recorded";
    pub const SCHEMA_VERSION: u32 = 1;

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
