//! The incident as the event-sourcing kit runs it: its subject, upcasters and envelope types.

use std::sync::LazyLock;

use edgeops_contracts::envelope::EventData;
use edgeops_contracts::monitoring::{INCIDENT_AGGREGATE, IncidentKind, IncidentRecovered};
use edgeops_contracts::training::DriftDetected;
use edgeops_contracts::upcast::Upcasters;
use edgeops_eventsourcing::{Aggregate, DomainEvent, EventDecodeError};
use serde_json::Value;

use super::incident::{IncidentEvent, IncidentState, Observation};

fn upcasters() -> &'static Upcasters {
    static UPCASTERS: LazyLock<Upcasters> = LazyLock::new(edgeops_contracts::events::upcasters);
    &UPCASTERS
}

impl DomainEvent for IncidentEvent {
    fn event_type(&self) -> &'static str {
        match self {
            IncidentEvent::Opened(opened) => opened.kind.event_type(),
            IncidentEvent::Drift(_) => DriftDetected::EVENT_TYPE,
            IncidentEvent::Recovered(_) => IncidentRecovered::EVENT_TYPE,
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }

    fn to_data(&self) -> Result<Value, serde_json::Error> {
        match self {
            IncidentEvent::Opened(data) => serde_json::to_value(data),
            IncidentEvent::Drift(data) => serde_json::to_value(data),
            IncidentEvent::Recovered(data) => serde_json::to_value(data),
        }
    }

    fn from_data(event_type: &str, data: Value) -> Result<Self, EventDecodeError> {
        let opened_kinds = [
            IncidentKind::PerformanceDegraded,
            IncidentKind::DeviceSilent,
            IncidentKind::SiteOffline,
            IncidentKind::DataQuality,
        ];
        Ok(match event_type {
            DriftDetected::EVENT_TYPE => IncidentEvent::Drift(serde_json::from_value(data)?),
            IncidentRecovered::EVENT_TYPE => {
                IncidentEvent::Recovered(serde_json::from_value(data)?)
            }
            other if opened_kinds.iter().any(|k| k.event_type() == other) => {
                IncidentEvent::Opened(serde_json::from_value(data)?)
            }
            other => return Err(EventDecodeError::UnknownType(other.to_owned())),
        })
    }
}

impl Aggregate for IncidentState {
    const KIND: &'static str = INCIDENT_AGGREGATE;
    type Command = Observation;
    type Event = IncidentEvent;
    type Error = std::convert::Infallible;

    fn upcasters() -> &'static Upcasters {
        upcasters()
    }

    fn decide(&self, command: Observation) -> Result<Vec<IncidentEvent>, Self::Error> {
        Ok(IncidentState::decide(self, command))
    }

    fn apply(&mut self, event: &IncidentEvent) {
        IncidentState::apply(self, event);
    }
}
