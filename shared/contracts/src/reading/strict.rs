//! A JSON parser for readings that is strict where `serde_json::Value` is lenient.
//!
//! `serde_json::from_slice::<Value>` keeps the last of two equal keys, so
//! `{"co2_ppm":1,"co2_ppm":2}` would be stored as 2 with no trace of the 1: a sensor bug hidden.
//! The [`StrictValue`] seed builds the same `Value` in the same single pass (it is the hot path
//! of ingest) but fails on a repeated key, and on any failure it records where it was (the keys
//! from the root to the failing value), which serde_json's error cannot carry. That is how a
//! number too large for an `f64` (`1e400`, which serde_json refuses as "number out of range")
//! is reported with the metric it was meant for.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

/// Why the strict parse failed, beyond what serde_json's error says.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Blame {
    /// The failure was a key that appears twice in one object (the last element of `path`).
    pub duplicate_key: bool,
    /// Object keys and array positions from the failing value up to the root (innermost first).
    pub path: Vec<Segment>,
}

#[derive(Debug, PartialEq)]
pub(super) enum Segment {
    Key(String),
    Index(usize),
}

impl Blame {
    /// The path from the root, e.g. `metrics.co2_ppm` or `pad[2]`; `None` at the root.
    pub fn location(&self) -> Option<String> {
        let mut text = String::new();
        for segment in self.path.iter().rev() {
            match segment {
                Segment::Key(key) if text.is_empty() => text.push_str(key),
                Segment::Key(key) => {
                    text.push('.');
                    text.push_str(key);
                }
                Segment::Index(index) => text.push_str(&format!("[{index}]")),
            }
        }
        (!text.is_empty()).then_some(text)
    }
}

/// Parses one JSON document into a `Value`, refusing repeated keys. On `Err`, `blame` says
/// where the parse stopped.
pub(super) fn parse(payload: &[u8], blame: &mut Blame) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(payload);
    let value = StrictValue { blame }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// A `DeserializeSeed` (rather than a `Deserialize` newtype) so that it can carry the blame.
struct StrictValue<'b> {
    blame: &'b mut Blame,
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // serde_json never hands over a non-finite float (it fails first); Null as it does.
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut elements = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            let index = elements.len();
            match seq.next_element_seed(StrictValue {
                blame: &mut *self.blame,
            }) {
                Ok(Some(element)) => elements.push(element),
                Ok(None) => return Ok(Value::Array(elements)),
                Err(err) => {
                    self.blame.path.push(Segment::Index(index));
                    return Err(err);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = match map.next_value_seed(StrictValue {
                blame: &mut *self.blame,
            }) {
                Ok(value) => value,
                Err(err) => {
                    self.blame.path.push(Segment::Key(key));
                    return Err(err);
                }
            };
            match object.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                Entry::Occupied(slot) => {
                    let message = format!("duplicate key {:?}", slot.key());
                    self.blame.duplicate_key = true;
                    self.blame.path.push(Segment::Key(slot.key().clone()));
                    return Err(de::Error::custom(message));
                }
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blame_of(payload: &str) -> Blame {
        let mut blame = Blame::default();
        parse(payload.as_bytes(), &mut blame).unwrap_err();
        blame
    }

    #[test]
    fn builds_what_serde_json_builds() {
        let text = r#"{"a":[1,-2,3.5,true,null,"x",{"b":{}}],"c":18446744073709551615}"#;
        let mut blame = Blame::default();
        let strict = parse(text.as_bytes(), &mut blame).unwrap();
        assert_eq!(strict, serde_json::from_str::<Value>(text).unwrap());
        assert_eq!(blame, Blame::default());
    }

    #[test]
    fn a_repeated_key_is_blamed_with_its_path() {
        let blame = blame_of(r#"{"ts":1,"metrics":{"co2_ppm":1,"co2_ppm":2}}"#);
        assert!(blame.duplicate_key);
        assert_eq!(blame.location().as_deref(), Some("metrics.co2_ppm"));

        let blame = blame_of(r#"{"pad":[0,{"x":1,"x":1}]}"#);
        assert_eq!(blame.location().as_deref(), Some("pad[1].x"));
    }

    #[test]
    fn equal_keys_in_different_objects_are_not_repeats() {
        let mut blame = Blame::default();
        let text = r#"{"a":{"k":1},"b":{"k":1},"k":[{"k":1},{"k":2}]}"#;
        assert!(parse(text.as_bytes(), &mut blame).is_ok());
    }

    #[test]
    fn any_other_failure_names_where_it_happened() {
        let blame = blame_of(r#"{"metrics":{"co2_ppm":1e400}}"#);
        assert!(!blame.duplicate_key);
        assert_eq!(blame.location().as_deref(), Some("metrics.co2_ppm"));
        assert_eq!(blame_of("1e400").location(), None);
    }
}
