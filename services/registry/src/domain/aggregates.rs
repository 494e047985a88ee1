//! The registry's two aggregates as the event-sourcing kit sees them: a model version
//! (decided by [`decide`], folded by [`apply`]) and a model's version allocations.

use std::sync::LazyLock;

use edgeops_contracts::upcast::Upcasters;
use edgeops_eventsourcing::{Aggregate, DomainEvent, EventDecodeError, UnknownEvents};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::allocation::{
    Allocation, Allocations, MODEL_AGGREGATE, VersionAllocated, register_allocation_upcasters,
};
use crate::domain::commands::Command;
use crate::domain::decide::decide;
use crate::domain::error::DomainError;
use crate::domain::events::{AGGREGATE_KIND, ModelVersionEvent, register_upcasters};
use crate::domain::state::{ModelVersionState, apply};

/// The project's upcasters plus the registry's own event types.
pub fn upcasters() -> &'static Upcasters {
    static UPCASTERS: LazyLock<Upcasters> = LazyLock::new(|| {
        register_allocation_upcasters(register_upcasters(edgeops_contracts::events::upcasters()))
    });
    &UPCASTERS
}

impl Aggregate for ModelVersionState {
    const KIND: &'static str = AGGREGATE_KIND;
    type Command = Command;
    type Event = ModelVersionEvent;
    type Error = DomainError;

    fn upcasters() -> &'static Upcasters {
        upcasters()
    }

    fn decide(&self, command: Command) -> Result<Vec<ModelVersionEvent>, DomainError> {
        decide(self, command)
    }

    fn apply(&mut self, event: &ModelVersionEvent) {
        *self = apply(std::mem::take(self), event);
    }
}

impl DomainEvent for VersionAllocated {
    fn event_type(&self) -> &'static str {
        <Self as edgeops_contracts::envelope::EventData>::EVENT_TYPE
    }

    fn schema_version(&self) -> u32 {
        <Self as edgeops_contracts::envelope::EventData>::SCHEMA_VERSION
    }

    fn to_data(&self) -> Result<Value, serde_json::Error> {
        serde_json::to_value(self)
    }

    fn from_data(event_type: &str, data: Value) -> Result<Self, EventDecodeError> {
        match event_type == <Self as edgeops_contracts::envelope::EventData>::EVENT_TYPE {
            true => Ok(serde_json::from_value(data)?),
            false => Err(EventDecodeError::UnknownType(event_type.to_owned())),
        }
    }
}

/// Every `u32` version of the model is taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the model has used every version number")]
pub struct VersionsExhausted;

/// Allocations are decided per training run: the run's number, or the next.
impl Aggregate for Allocations {
    const KIND: &'static str = MODEL_AGGREGATE;
    /// A model's subject holds allocations only; anything else there is not the registry's.
    const UNKNOWN_EVENTS: UnknownEvents = UnknownEvents::Skip;
    type Command = Uuid;
    type Event = VersionAllocated;
    type Error = VersionsExhausted;

    fn upcasters() -> &'static Upcasters {
        upcasters()
    }

    fn decide(&self, run: Uuid) -> Result<Vec<VersionAllocated>, VersionsExhausted> {
        match self.allocate(run).ok_or(VersionsExhausted)? {
            Allocation::Existing(_) => Ok(vec![]),
            Allocation::New(event) => Ok(vec![event]),
        }
    }

    fn apply(&mut self, event: &VersionAllocated) {
        *self = std::mem::take(self).apply(event);
    }
}
