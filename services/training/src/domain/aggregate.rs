//! The training run as the event-sourcing kit runs it: [`decide`] and [`apply`] are the rules,
//! this names its subject, its upcasters and how its events sit in an envelope. The run's
//! subject is shared with other writers, so event types that are not the run's are passed over.

use std::sync::LazyLock;

use edgeops_contracts::envelope::EventData;
use edgeops_contracts::training::{
    RUN_AGGREGATE, TrainingCompleted, TrainingFailed, TrainingRequested, TrainingStarted,
};
use edgeops_contracts::upcast::Upcasters;
use edgeops_eventsourcing::{Aggregate, DomainEvent, EventDecodeError, UnknownEvents};
use serde_json::Value;

use super::run::{RunCommand, RunError, RunEvent, RunState, apply, decide, decode};

/// The project's upcasters (the run's event types are among them).
pub fn upcasters() -> &'static Upcasters {
    static UPCASTERS: LazyLock<Upcasters> = LazyLock::new(edgeops_contracts::events::upcasters);
    &UPCASTERS
}

impl DomainEvent for RunEvent {
    fn event_type(&self) -> &'static str {
        match self {
            RunEvent::Requested(_) => TrainingRequested::EVENT_TYPE,
            RunEvent::Started(_) => TrainingStarted::EVENT_TYPE,
            RunEvent::Completed(_) => TrainingCompleted::EVENT_TYPE,
            RunEvent::Failed(_) => TrainingFailed::EVENT_TYPE,
        }
    }

    fn schema_version(&self) -> u32 {
        match self {
            RunEvent::Requested(_) => TrainingRequested::SCHEMA_VERSION,
            RunEvent::Started(_) => TrainingStarted::SCHEMA_VERSION,
            RunEvent::Completed(_) => TrainingCompleted::SCHEMA_VERSION,
            RunEvent::Failed(_) => TrainingFailed::SCHEMA_VERSION,
        }
    }

    fn to_data(&self) -> Result<Value, serde_json::Error> {
        match self {
            RunEvent::Requested(data) => serde_json::to_value(data),
            RunEvent::Started(data) => serde_json::to_value(data),
            RunEvent::Completed(data) => serde_json::to_value(data),
            RunEvent::Failed(data) => serde_json::to_value(data),
        }
    }

    fn from_data(event_type: &str, data: Value) -> Result<Self, EventDecodeError> {
        match decode(event_type, data) {
            Some(parsed) => Ok(parsed?),
            None => Err(EventDecodeError::UnknownType(event_type.to_owned())),
        }
    }
}

impl Aggregate for RunState {
    const KIND: &'static str = RUN_AGGREGATE;
    /// Other services write to a run's subject too; their events are not the run's.
    const UNKNOWN_EVENTS: UnknownEvents = UnknownEvents::Skip;
    type Command = RunCommand;
    type Event = RunEvent;
    type Error = RunError;

    fn upcasters() -> &'static Upcasters {
        upcasters()
    }

    fn decide(&self, command: RunCommand) -> Result<Vec<RunEvent>, RunError> {
        decide(self, command)
    }

    fn apply(&mut self, event: &RunEvent) {
        *self = apply(std::mem::take(self), event);
    }
}

#[cfg(test)]
mod tests {
    use edgeops_contracts::Actor;
    use edgeops_contracts::envelope::{EventEnvelope, EventMeta};
    use edgeops_contracts::training::{RunRequest, Scope, Trigger};
    use edgeops_eventsourcing::{Loaded, Provenance};
    use uuid::Uuid;

    use super::*;

    fn requested() -> TrainingRequested {
        TrainingRequested {
            run: Uuid::now_v7(),
            request: RunRequest {
                model: "m".into(),
                scope: Scope::parse("site:s1").unwrap(),
                spec: "indoor_air".into(),
                from: None,
                to: None,
                horizon_bins: 6,
            },
            trigger: Trigger::Command,
        }
    }

    fn stored<T: EventData>(data: T) -> Vec<u8> {
        let actor = Actor::Service("someone".into());
        serde_json::to_vec(&EventEnvelope::new(RUN_AGGREGATE, "r1", actor, data)).unwrap()
    }

    /// What the kit writes is what the typed envelope of the contracts wrote before it.
    #[test]
    fn an_event_is_enveloped_as_its_contract_type() {
        let actor = Actor::Service("training".into());
        let cause: EventMeta =
            EventEnvelope::new(RUN_AGGREGATE, "r1", actor.clone(), requested()).meta;
        let started = TrainingStarted {
            run: Uuid::now_v7(),
        };
        let kit = Provenance::by(&actor)
            .caused_by(Some(&cause))
            .envelope::<RunState>("r1", &RunEvent::Started(started.clone()))
            .unwrap();
        let typed = EventEnvelope::new(RUN_AGGREGATE, "r1", actor, started).caused_by(&cause);
        assert_eq!(kit.meta.event_type, typed.meta.event_type);
        assert_eq!(kit.meta.schema_version, typed.meta.schema_version);
        assert_eq!(kit.meta.aggregate_kind, typed.meta.aggregate_kind);
        assert_eq!(kit.meta.aggregate_id, typed.meta.aggregate_id);
        assert_eq!(kit.meta.causation_id, typed.meta.causation_id);
        assert_eq!(kit.meta.correlation_id, typed.meta.correlation_id);
        assert_eq!(kit.meta.actor, typed.meta.actor);
        assert_eq!(kit.data, serde_json::to_value(&typed.data).unwrap());
    }

    #[test]
    fn a_stored_run_loads_past_events_of_other_writers() {
        let req = requested();
        let other = serde_json::to_vec(&serde_json::json!({
            "id": Uuid::now_v7(), "type": "someone.else", "schema_version": 1,
            "aggregate_kind": RUN_AGGREGATE, "aggregate_id": "r1",
            "occurred_at": "2026-01-01T00:00:00Z", "causation_id": null,
            "correlation_id": Uuid::now_v7(), "actor": {"kind": "service", "id": "x"},
            "data": {}
        }))
        .unwrap();
        let loaded = Loaded::<RunState>::default()
            .fold_stored([
                (3, stored(req.clone())),
                (4, stored(TrainingStarted { run: req.run })),
                (7, other),
            ])
            .unwrap();
        assert_eq!(loaded.state, RunState::Started(req));
        assert_eq!(loaded.last_sequence, 7);
    }
}
