//! A rollout's events, on `edgeops.events.rollout.<rollout id>`. The actor (operator or the
//! deployment service itself) rides in the event envelope.

use edgeops_contracts::upcast::Upcasters;
pub use edgeops_eventsourcing::EventDecodeError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use edgeops_deployment_api::{GateSettings, Strategy};

/// The envelope's `aggregate_kind` for every rollout event (defined once in contracts: the hub
/// topology's projection consumer filters on it too).
pub use edgeops_contracts::deployment::ROLLOUT_AGGREGATE as AGGREGATE_KIND;

/// Every rollout event type, each at schema version 1.
pub const EVENT_TYPES: [&str; 11] = [
    "rollout.started",
    "rollout.wave_advanced",
    "rollout.device_applied",
    "rollout.device_failed",
    "rollout.gate_passed",
    "rollout.gate_failed",
    "rollout.rolled_back",
    "rollout.paused",
    "rollout.resumed",
    "rollout.cancelled",
    "rollout.completed",
];
pub const SCHEMA_VERSION: u32 = 1;

/// A device as one token: `<site>:<device>`.
pub type DeviceKey = String;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Started {
    pub rollout: Uuid,
    pub model: String,
    pub version: u32,
    /// Sorted; waves take them in this order.
    pub targets: Vec<DeviceKey>,
    /// The version each target served before (`None`: no model), for rolling back.
    pub previous: Vec<Option<u32>>,
    pub strategy: Strategy,
    pub gates: GateSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RolloutEvent {
    Started(Started),
    WaveAdvanced {
        wave: usize,
        devices: Vec<DeviceKey>,
    },
    DeviceApplied {
        device: DeviceKey,
    },
    DeviceFailed {
        device: DeviceKey,
        reason: String,
    },
    GatePassed {
        wave: usize,
        summary: String,
    },
    GateFailed {
        wave: usize,
        reason: String,
    },
    /// The devices named go back to their previous versions.
    RolledBack {
        devices: Vec<DeviceKey>,
        reason: String,
    },
    Paused,
    Resumed,
    Cancelled {
        reason: String,
    },
    Completed,
}

/// Declares every rollout event's current schema version.
pub fn register_upcasters(upcasters: Upcasters) -> Upcasters {
    EVENT_TYPES
        .iter()
        .fold(upcasters, |u, &t| u.current(t, SCHEMA_VERSION))
}

impl RolloutEvent {
    /// The envelope's data: the event without the enum's `type` tag (the envelope's own
    /// `type`, `rollout.<variant>`, names it).
    pub fn to_data(&self) -> Result<Value, serde_json::Error> {
        let mut value = serde_json::to_value(self)?;
        if let Some(object) = value.as_object_mut() {
            object.remove("type");
        }
        Ok(value)
    }

    /// Reads an envelope's data back, given the envelope's type.
    pub fn from_data(event_type: &str, mut data: Value) -> Result<Self, EventDecodeError> {
        let variant = event_type
            .strip_prefix("rollout.")
            .filter(|v| EVENT_TYPES.contains(&event_type) && !v.is_empty())
            .ok_or_else(|| EventDecodeError::UnknownType(event_type.to_owned()))?;
        if data.is_null() {
            data = Value::Object(Default::default());
        }
        if let Some(object) = data.as_object_mut() {
            object.insert("type".into(), Value::String(variant.to_owned()));
        }
        Ok(serde_json::from_value(data)?)
    }

    /// The envelope's event type: `rollout.<variant>`.
    pub fn event_type(&self) -> &'static str {
        match self {
            RolloutEvent::Started(_) => "rollout.started",
            RolloutEvent::WaveAdvanced { .. } => "rollout.wave_advanced",
            RolloutEvent::DeviceApplied { .. } => "rollout.device_applied",
            RolloutEvent::DeviceFailed { .. } => "rollout.device_failed",
            RolloutEvent::GatePassed { .. } => "rollout.gate_passed",
            RolloutEvent::GateFailed { .. } => "rollout.gate_failed",
            RolloutEvent::RolledBack { .. } => "rollout.rolled_back",
            RolloutEvent::Paused => "rollout.paused",
            RolloutEvent::Resumed => "rollout.resumed",
            RolloutEvent::Cancelled { .. } => "rollout.cancelled",
            RolloutEvent::Completed => "rollout.completed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_round_trips_through_its_envelope_data() {
        let events = [
            RolloutEvent::WaveAdvanced {
                wave: 1,
                devices: vec!["s1:a".into()],
            },
            RolloutEvent::DeviceFailed {
                device: "s1:a".into(),
                reason: "digest_mismatch".into(),
            },
            RolloutEvent::Paused,
            RolloutEvent::Completed,
        ];
        for event in events {
            let data = event.to_data().unwrap();
            assert!(data.get("type").is_none(), "{data}");
            let back = RolloutEvent::from_data(event.event_type(), data).unwrap();
            assert_eq!(back, event);
            assert!(EVENT_TYPES.contains(&event.event_type()));
        }
        assert!(matches!(
            RolloutEvent::from_data("rollout.teleported", Value::Null),
            Err(EventDecodeError::UnknownType(_))
        ));
    }
}
