//! Rollouts as this service keeps them: an event store that holds unfinished rollouts in
//! memory (the evaluator's ticks and a burst of device reports then cost one request each,
//! not a replay), and what an operator reads off a loaded rollout: when and by whom it
//! started, when its current wave was switched, and its history.

use async_nats::jetstream::Context;
use chrono::{DateTime, Utc};
use edgeops_contracts::Actor;
use edgeops_eventsourcing::{EventStore, Loaded, Recorded};
use uuid::Uuid;

use crate::domain::{Rollout, RolloutEvent};
use edgeops_deployment_api::HistoryEntry;

pub type RolloutStore = EventStore<Rollout>;

/// The store of rollouts; finished ones are not kept in memory.
pub fn store(js: Context) -> RolloutStore {
    EventStore::cached(js, |rollout| !rollout.is_finished())
}

/// The rollouts this process holds loaded: all unfinished.
pub fn cached_ids(store: &RolloutStore) -> Vec<Uuid> {
    store
        .cached_ids()
        .iter()
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect()
}

/// What an operator reads off a loaded rollout.
pub trait RolloutRecord {
    fn started_at(&self) -> Option<DateTime<Utc>>;
    fn started_by(&self) -> Option<Actor>;
    /// When the current wave was switched: its gate window counts from here.
    fn wave_started_at(&self) -> Option<DateTime<Utc>>;
    /// Every event but the devices' acknowledgements, with its actor.
    fn history_entries(&self) -> Vec<HistoryEntry>;
    fn is_finished(&self) -> bool;
}

impl RolloutRecord for Loaded<Rollout> {
    fn started_at(&self) -> Option<DateTime<Utc>> {
        self.recorded
            .iter()
            .rfind(|r| matches!(r.event, RolloutEvent::Started(_)))
            .map(|r| r.meta.occurred_at)
    }

    fn started_by(&self) -> Option<Actor> {
        self.recorded
            .iter()
            .rfind(|r| matches!(r.event, RolloutEvent::Started(_)))
            .map(|r| r.meta.actor.clone())
    }

    fn wave_started_at(&self) -> Option<DateTime<Utc>> {
        self.recorded
            .iter()
            .rfind(|r| matches!(r.event, RolloutEvent::WaveAdvanced { .. }))
            .map(|r| r.meta.occurred_at)
    }

    fn history_entries(&self) -> Vec<HistoryEntry> {
        self.history().map(entry).collect()
    }

    fn is_finished(&self) -> bool {
        self.state.is_finished()
    }
}

fn entry(recorded: &Recorded<RolloutEvent>) -> HistoryEntry {
    HistoryEntry {
        sequence: recorded.sequence,
        event_type: recorded.meta.event_type.clone(),
        actor: recorded.meta.actor.clone(),
        at: recorded.meta.occurred_at,
        detail: describe(&recorded.event),
    }
}

/// One line about an event, for the rollout's history.
pub fn describe(event: &RolloutEvent) -> String {
    match event {
        RolloutEvent::Started(s) => {
            format!("{} v{} to {} devices", s.model, s.version, s.targets.len())
        }
        RolloutEvent::WaveAdvanced { wave, devices } => {
            format!("wave {wave}: {} devices switched", devices.len())
        }
        RolloutEvent::DeviceApplied { device } => device.clone(),
        RolloutEvent::DeviceFailed { device, reason } => format!("{device}: {reason}"),
        RolloutEvent::GatePassed { wave, summary } => format!("wave {wave}: {summary}"),
        RolloutEvent::GateFailed { wave, reason } => format!("wave {wave}: {reason}"),
        RolloutEvent::RolledBack { devices, reason } => {
            format!("{} devices back: {reason}", devices.len())
        }
        RolloutEvent::Cancelled { reason } => reason.clone(),
        RolloutEvent::Paused | RolloutEvent::Resumed | RolloutEvent::Completed => String::new(),
    }
}
