//! Deployment's request and reply bodies, shared by the service, the `edgeops rollout` command
//! and the tests.

use chrono::{DateTime, Utc};
use edgeops_contracts::Actor;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{GateSettings, Selector, Status, Strategy};

/// `start`: roll `model` v`version` out to the devices `selector` names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartRequest {
    pub model: String,
    pub version: u32,
    pub selector: Selector,
    /// Canary share and waves; the default is 10 %, then 50 %, then everyone.
    #[serde(default)]
    pub strategy: Option<Strategy>,
    /// The health gates; see [`GateSettings`] for the defaults.
    #[serde(default)]
    pub gates: Option<GateSettings>,
    pub actor: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartReply {
    pub rollout: Uuid,
    pub targets: usize,
    /// Devices per wave, the canary first.
    pub waves: Vec<usize>,
    /// Stream sequence of the rollout's last event (pass it as `expected_sequence`).
    pub sequence: u64,
    /// Devices of the selected sites left out because nothing of theirs reached the hub within
    /// the live window (`<site>:<device>`, sorted).
    #[serde(default)]
    pub silent: Vec<String>,
    /// The live window the targets were judged by, in seconds.
    #[serde(default)]
    pub live_within_secs: u64,
}

/// `pause`, `resume`, `cancel`, `rollback`: an operator's command on one rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActRequest {
    pub rollout: Uuid,
    pub actor: String,
    /// Why (cancel, rollback); recorded with the event.
    #[serde(default)]
    pub reason: Option<String>,
    /// The rollout's sequence as the operator last saw it: the command is refused (409) if
    /// anything was recorded since. Without it, only another operator's action in between
    /// refuses it.
    #[serde(default)]
    pub expected_sequence: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActReply {
    pub rollout: Uuid,
    pub status: Status,
    pub sequence: u64,
}

/// `status`: one rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusRequest {
    pub rollout: Uuid,
}

/// `list`: rollouts, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListRequest {
    /// Only running and paused ones.
    #[serde(default)]
    pub active: bool,
    /// At most this many (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// One event of a rollout's history (device acknowledgements aside).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub sequence: u64,
    pub event_type: String,
    pub actor: Actor,
    pub at: DateTime<Utc>,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaveState {
    Pending,
    /// Switched; its gate is being judged.
    Serving,
    Passed,
    /// Switched, then taken back by a rollback.
    RolledBack,
    /// Switched before the rollout was cancelled: the devices keep the new version.
    Kept,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaveStatus {
    pub wave: usize,
    pub devices: usize,
    pub applied: usize,
    pub failed: usize,
    pub state: WaveState,
}

/// `status` answers this, read from the rollout's events (not the projection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutStatus {
    pub rollout: Uuid,
    pub model: String,
    pub version: u32,
    pub status: Status,
    pub wave: usize,
    pub waves: Vec<WaveStatus>,
    pub targets: usize,
    pub strategy: Strategy,
    pub gates: GateSettings,
    pub started_at: Option<DateTime<Utc>>,
    pub started_by: Option<Actor>,
    pub sequence: u64,
    pub history: Vec<HistoryEntry>,
}

/// `list` answers these, from the projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutSummary {
    pub rollout: Uuid,
    pub model: String,
    pub version: u32,
    pub status: Status,
    pub wave: u32,
    pub waves: u32,
    pub targets: u32,
    pub switched: u32,
    pub applied: u32,
    pub failed: u32,
    pub started_by: Actor,
    pub last_actor: Actor,
    pub last_event: String,
    pub reason: Option<String>,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
