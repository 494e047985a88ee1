//! A rollout's events, on `edgeops.events.rollout.<rollout id>`. The actor (operator or the
//! deployment service itself) rides in the event envelope.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::gates::GateSettings;
use super::plan::Strategy;

pub const AGGREGATE_KIND: &str = "rollout";

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

impl RolloutEvent {
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
