//! The rollout as the event-sourcing kit runs it: [`decide`] and [`apply`] are the rules,
//! this names its subject, its upcasters and which events an operator's history leaves out.

use std::sync::LazyLock;

use edgeops_contracts::upcast::Upcasters;
use edgeops_eventsourcing::{Aggregate, DomainEvent, EventDecodeError};
use serde_json::Value;

use super::events::{AGGREGATE_KIND, RolloutEvent, SCHEMA_VERSION, register_upcasters};
use super::rollout::{Command, Rollout, RolloutError, apply, decide};

/// The project's upcasters plus the rollout's event types.
pub fn upcasters() -> &'static Upcasters {
    static UPCASTERS: LazyLock<Upcasters> =
        LazyLock::new(|| register_upcasters(edgeops_contracts::events::upcasters()));
    &UPCASTERS
}

impl DomainEvent for RolloutEvent {
    fn event_type(&self) -> &'static str {
        RolloutEvent::event_type(self)
    }

    fn schema_version(&self) -> u32 {
        SCHEMA_VERSION
    }

    fn to_data(&self) -> Result<Value, serde_json::Error> {
        RolloutEvent::to_data(self)
    }

    fn from_data(event_type: &str, data: Value) -> Result<Self, EventDecodeError> {
        RolloutEvent::from_data(event_type, data)
    }
}

impl Aggregate for Rollout {
    const KIND: &'static str = AGGREGATE_KIND;
    const OUTSIDE_HISTORY: &'static str = "device acknowledgements";
    type Command = Command;
    type Event = RolloutEvent;
    type Error = RolloutError;

    fn upcasters() -> &'static Upcasters {
        upcasters()
    }

    fn decide(&self, command: Command) -> Result<Vec<RolloutEvent>, RolloutError> {
        decide(self, command)
    }

    fn apply(&mut self, event: &RolloutEvent) {
        *self = apply(std::mem::take(self), event);
    }

    /// A device's acknowledgement is bookkeeping; its failure is news.
    fn in_history(event: &RolloutEvent) -> bool {
        !matches!(event, RolloutEvent::DeviceApplied { .. })
    }
}
