//! A sensor reading and the rules that make one acceptable.
//!
//! Wire format (JSON, what a sensor, `nats pub` or `mosquitto_pub` sends):
//! ```json
//! {"ts":"2026-11-22T10:00:00Z","metrics":{"co2_ppm":612,"temperature_c":21.5}}
//! ```
//! The subject (`edgeops.raw.<site>.<device>`) names site and device; the payload may repeat
//! them (`"site"`, `"device"`) but must then agree. `"v"` is the payload version (default 1).
//! On the hub, a message may also carry several readings of its subject's device as a JSON
//! array of such objects (the gateway packs what it forwards: one message, one header and one
//! acknowledgement for many readings).
//! Readings are telemetry, not domain events: they carry no envelope, so a hand-typed
//! `nats pub` works, and de-duplication keys on (site, device, ts) instead of an event id.
//! A key may appear only once in an object (`duplicate_key` otherwise), and a number must fit
//! an `f64` (`1e400` is `out_of_range`); within a packed message, each reading is judged on
//! its own for both.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::compression::decompressed;
use crate::dead_letter::{RejectCode, Rejection};
use crate::ids::{DeviceId, SiteId};
use crate::metric::{Lookup, MetricCatalog};
use crate::subjects::parse_reading_subject;

mod strict;

/// The payload version this code writes and reads.
pub const READING_VERSION: u64 = 1;

/// A validated reading: every value finite, known and in range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub site: SiteId,
    pub device: DeviceId,
    pub ts: DateTime<Utc>,
    pub metrics: BTreeMap<String, f64>,
}

/// Bounds on what ingest accepts. Defaults suit the shipped data sets (2010-2016 replays).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadingLimits {
    /// The limit for one reading's payload.
    pub max_payload_bytes: usize,
    /// Limits for a message carrying several readings of one device (a JSON array).
    pub max_batch_payload_bytes: usize,
    pub max_batch_readings: usize,
    /// How far ahead of the receiver's clock a timestamp may be (sensor clock skew).
    pub max_future_skew: Duration,
    /// Anything older is a sensor with an unset clock (1970) rather than real history.
    pub earliest: DateTime<Utc>,
}

impl Default for ReadingLimits {
    fn default() -> Self {
        Self {
            max_payload_bytes: 16 * 1024,
            max_batch_payload_bytes: 1024 * 1024,
            max_batch_readings: 1_000,
            max_future_skew: Duration::minutes(5),
            earliest: Utc
                .with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
        }
    }
}

impl Reading {
    /// Parses and validates one message. Returns the first rule it breaks, with the field named.
    pub fn from_message(
        subject: &str,
        payload: &[u8],
        now: DateTime<Utc>,
        limits: &ReadingLimits,
    ) -> Result<Self, Rejection> {
        if payload.len() > limits.max_payload_bytes {
            return Err(Rejection::new(
                RejectCode::PayloadTooLarge,
                format!(
                    "{} bytes, limit {}",
                    payload.len(),
                    limits.max_payload_bytes
                ),
            ));
        }
        let (site, device) = reading_subject(subject)?;
        let object = expect_object(parse_json(payload)?)?;
        Self::from_object(site, device, &object, now, limits)
    }

    /// Parses a message that holds one reading (a JSON object) or several readings of the
    /// subject's device (a JSON array of such objects: what the gateway forwards to the hub),
    /// either as JSON text or as a zstd frame of it (see [`crate::compression`]).
    /// One verdict per reading, in order; a message that is unusable as a whole (not JSON, a
    /// wrong subject, too large) gives a single `Err`.
    pub fn all_from_message(
        subject: &str,
        payload: &[u8],
        now: DateTime<Utc>,
        limits: &ReadingLimits,
    ) -> Vec<Result<Self, Rejection>> {
        let payload = match decompressed(payload, limits.max_batch_payload_bytes) {
            Ok(text) => text,
            Err(rejection) => return vec![Err(rejection)],
        };
        let payload = payload.as_ref();
        if !payload.trim_ascii_start().starts_with(b"[") {
            return vec![Self::from_message(subject, payload, now, limits)];
        }
        match parse_array(subject, payload, limits) {
            Ok((site, device, elements)) => elements
                .into_iter()
                .map(|element| {
                    let object = expect_object(element?)?;
                    Self::from_object(site.clone(), device.clone(), &object, now, limits)
                })
                .collect(),
            Err(rejection) => vec![Err(rejection)],
        }
    }

    fn from_object(
        site: SiteId,
        device: DeviceId,
        object: &Map<String, Value>,
        now: DateTime<Utc>,
        limits: &ReadingLimits,
    ) -> Result<Self, Rejection> {
        check_version(object)?;
        check_identity(object, "site", site.as_str())?;
        check_identity(object, "device", device.as_str())?;
        let ts = parse_timestamp(object, now, limits)?;
        let metrics = parse_metrics(object)?;
        Ok(Self {
            site,
            device,
            ts,
            metrics,
        })
    }

    /// The canonical JSON of this reading (what the gateway forwards and tests publish).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "v": READING_VERSION,
            "site": self.site,
            "device": self.device,
            "ts": self.ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "metrics": self.metrics,
        })
    }
}

/// One element of a batch message: parsed, or refused on its own.
type Element = Result<Value, Rejection>;

/// A batch message: its subject's site and device, and its elements.
fn parse_array(
    subject: &str,
    payload: &[u8],
    limits: &ReadingLimits,
) -> Result<(SiteId, DeviceId, Vec<Element>), Rejection> {
    if payload.len() > limits.max_batch_payload_bytes {
        return Err(Rejection::new(
            RejectCode::PayloadTooLarge,
            format!(
                "{} bytes, limit {} for a batch of readings",
                payload.len(),
                limits.max_batch_payload_bytes
            ),
        ));
    }
    let (site, device) = reading_subject(subject)?;
    let elements = parse_elements(payload)?;
    if elements.is_empty() || elements.len() > limits.max_batch_readings {
        return Err(Rejection::new(
            RejectCode::PayloadTooLarge,
            format!(
                "a batch of {} readings; 1 to {} are accepted",
                elements.len(),
                limits.max_batch_readings
            ),
        ));
    }
    Ok((site, device, elements))
}

fn reading_subject(subject: &str) -> Result<(SiteId, DeviceId), Rejection> {
    parse_reading_subject(subject).ok_or_else(|| {
        Rejection::new(
            RejectCode::InvalidSubject,
            format!("{subject:?} is not a reading subject"),
        )
    })
}

/// The elements of a JSON array. One pass when the whole array parses (the usual case); when
/// it fails for a reason that belongs to one element (a repeated key, a number too large), the
/// array is split and each element parsed on its own, so that one reading does not sink the
/// others. A fault of the message as a whole is one `Err`.
fn parse_elements(payload: &[u8]) -> Result<Vec<Element>, Rejection> {
    let mut blame = strict::Blame::default();
    let err = match strict::parse(payload, &mut blame) {
        Ok(Value::Array(elements)) => return Ok(elements.into_iter().map(Ok).collect()),
        Ok(other) => {
            return Err(Rejection::new(
                RejectCode::InvalidJson,
                format!("expected a JSON array, got {}", type_name(&other)),
            ));
        }
        Err(err) => err,
    };
    let rejection = json_rejection(payload, &err, &blame);
    if !matches!(
        rejection.code,
        RejectCode::DuplicateKey | RejectCode::OutOfRange
    ) {
        return Err(rejection);
    }
    // `RawValue` skips numbers without converting them, so `1e400` does not stop the split.
    let raw: Vec<&RawValue> = serde_json::from_slice(payload)
        .map_err(|err| json_rejection(payload, &err, &strict::Blame::default()))?;
    Ok(raw
        .into_iter()
        .map(|element| parse_json(element.get().as_bytes()))
        .collect())
}

fn parse_json(payload: &[u8]) -> Result<Value, Rejection> {
    let mut blame = strict::Blame::default();
    strict::parse(payload, &mut blame).map_err(|err| json_rejection(payload, &err, &blame))
}

/// The reason a payload is not acceptable JSON, most specific first.
fn json_rejection(payload: &[u8], err: &serde_json::Error, blame: &strict::Blame) -> Rejection {
    let at = format!("line {}, column {}", err.line(), err.column());
    if blame.duplicate_key {
        let key = blame.location().unwrap_or_default();
        return Rejection::new(
            RejectCode::DuplicateKey,
            format!("key {key} appears more than once ({at})"),
        );
    }
    if is_number_out_of_range(err) {
        let detail = match blame.location() {
            Some(key) => format!("{key}: the number does not fit a 64-bit float ({at})"),
            None => format!("a number does not fit a 64-bit float ({at})"),
        };
        return Rejection::new(RejectCode::OutOfRange, detail);
    }
    if contains_non_finite_literal(payload) {
        return Rejection::new(
            RejectCode::NotANumber,
            format!("NaN or Infinity is not a number JSON can carry ({err})"),
        );
    }
    Rejection::new(RejectCode::InvalidJson, err.to_string())
}

/// serde_json refuses a literal beyond `f64` (`1e400`, `-1e400`, a 400-digit integer) as a
/// syntax error whose code is private; its message is the only way to tell it apart (a test
/// pins the wording).
fn is_number_out_of_range(err: &serde_json::Error) -> bool {
    err.classify() == serde_json::error::Category::Syntax
        && err.to_string().starts_with("number out of range")
}

fn expect_object(value: Value) -> Result<Map<String, Value>, Rejection> {
    match value {
        Value::Object(object) => Ok(object),
        other => Err(Rejection::new(
            RejectCode::NotAnObject,
            format!("expected a JSON object, got {}", type_name(&other)),
        )),
    }
}

/// Firmware that prints floats with a default formatter emits bare `NaN`/`Infinity`.
fn contains_non_finite_literal(payload: &[u8]) -> bool {
    let text = String::from_utf8_lossy(payload);
    ["NaN", "Infinity"]
        .iter()
        .any(|literal| text.contains(literal))
}

fn check_version(object: &Map<String, Value>) -> Result<(), Rejection> {
    match object.get("v") {
        None => Ok(()),
        Some(Value::Number(n)) if n.as_u64() == Some(READING_VERSION) => Ok(()),
        Some(Value::Number(n)) => Err(Rejection::new(
            RejectCode::UnsupportedVersion,
            format!("payload version {n}, this ingest reads {READING_VERSION}"),
        )),
        Some(other) => Err(wrong_type("v", "an integer", other)),
    }
}

fn check_identity(
    object: &Map<String, Value>,
    field: &str,
    from_subject: &str,
) -> Result<(), Rejection> {
    match object.get(field) {
        None => Ok(()),
        Some(Value::String(s)) if s == from_subject => Ok(()),
        Some(Value::String(s)) => Err(Rejection::new(
            RejectCode::SubjectMismatch,
            format!("payload {field} {s:?} differs from the subject's {from_subject:?}"),
        )),
        Some(other) => Err(wrong_type(field, "a string", other)),
    }
}

fn parse_timestamp(
    object: &Map<String, Value>,
    now: DateTime<Utc>,
    limits: &ReadingLimits,
) -> Result<DateTime<Utc>, Rejection> {
    let raw = match object.get("ts") {
        None => {
            return Err(Rejection::new(
                RejectCode::MissingField,
                "field \"ts\" is required",
            ));
        }
        Some(Value::String(s)) => s,
        Some(other) => return Err(wrong_type("ts", "an RFC 3339 string", other)),
    };
    let ts = DateTime::parse_from_rfc3339(raw)
        .map_err(|e| Rejection::new(RejectCode::InvalidTimestamp, format!("ts {raw:?}: {e}")))?
        .with_timezone(&Utc);
    if ts > now + limits.max_future_skew {
        return Err(Rejection::new(
            RejectCode::FutureTimestamp,
            format!(
                "ts {raw} is more than {}s ahead of {now}",
                limits.max_future_skew.num_seconds()
            ),
        ));
    }
    if ts < limits.earliest {
        return Err(Rejection::new(
            RejectCode::TimestampTooOld,
            format!("ts {raw} is before {}", limits.earliest),
        ));
    }
    Ok(ts)
}

fn parse_metrics(object: &Map<String, Value>) -> Result<BTreeMap<String, f64>, Rejection> {
    let metrics = match object.get("metrics") {
        None => {
            return Err(Rejection::new(
                RejectCode::MissingField,
                "field \"metrics\" is required",
            ));
        }
        Some(Value::Object(m)) => m,
        Some(other) => return Err(wrong_type("metrics", "an object", other)),
    };
    if metrics.is_empty() {
        return Err(Rejection::new(
            RejectCode::NoMetrics,
            "\"metrics\" is empty",
        ));
    }
    let catalog = MetricCatalog;
    metrics
        .iter()
        .map(|(key, value)| {
            let metric = match catalog.lookup(key) {
                Lookup::Known(metric) => metric,
                Lookup::UnsupportedUnit { quantity, supported_unit } => {
                    return Err(Rejection::new(
                        RejectCode::UnsupportedUnit,
                        format!("{key}: {quantity} is accepted in {supported_unit} ({quantity}_{supported_unit})"),
                    ));
                }
                Lookup::Unknown => {
                    return Err(Rejection::new(RejectCode::UnknownMetric, format!("{key} is not in the catalogue")));
                }
            };
            let number = metric_value(key, value)?;
            if !(metric.min..=metric.max).contains(&number) {
                return Err(Rejection::new(
                    RejectCode::OutOfRange,
                    format!("{key} = {number} outside [{}, {}]", metric.min, metric.max),
                ));
            }
            Ok((key.clone(), number))
        })
        .collect()
}

fn metric_value(key: &str, value: &Value) -> Result<f64, Rejection> {
    match value {
        Value::Number(n) => n.as_f64().filter(|v| v.is_finite()).ok_or_else(|| {
            Rejection::new(RejectCode::NotANumber, format!("{key} = {n} is not finite"))
        }),
        Value::Null => Err(Rejection::new(
            RejectCode::NotANumber,
            format!("{key} is null"),
        )),
        Value::String(s) if s.trim().parse::<f64>().is_ok_and(|v| !v.is_finite()) => Err(
            Rejection::new(RejectCode::NotANumber, format!("{key} = {s:?}")),
        ),
        other => Err(wrong_type(key, "a number", other)),
    }
}

fn wrong_type(field: &str, expected: &str, got: &Value) -> Rejection {
    Rejection::new(
        RejectCode::WrongType,
        format!("{field} must be {expected}, got {}", type_name(got)),
    )
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
