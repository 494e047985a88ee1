//! Observations into incident events, through the event-sourcing kit.

use std::sync::Arc;

use edgeops_contracts::Actor;
use edgeops_eventsourcing::{EventStore, ExecError, Expect, Provenance};

use crate::SERVICE_NAME;
use crate::domain::{IncidentEvent, IncidentState, Observation};
use crate::metrics::Metrics;

/// The incident store, shared by the summaries consumer and the site-link watch.
#[derive(Clone)]
pub struct Incidents {
    store: Arc<EventStore<IncidentState>>,
    actor: Actor,
    metrics: Metrics,
}

impl Incidents {
    pub fn new(js: async_nats::jetstream::Context) -> Self {
        Self {
            // Every scope stays loaded: their number is bounded by devices × versions.
            store: Arc::new(EventStore::cached(js, |_| true)),
            actor: Actor::Service(SERVICE_NAME.into()),
            metrics: Metrics::default(),
        }
    }

    /// Records what `observation` changes (usually nothing); returns the events appended.
    pub async fn observe(&self, observation: Observation) -> anyhow::Result<Vec<IncidentEvent>> {
        let id = observation.scope.incident_id(observation.kind);
        let provenance = Provenance::by(&self.actor);
        match self
            .store
            .handle(&id, observation, &provenance, Expect::Latest)
            .await
        {
            Ok((_, events)) => {
                for event in &events {
                    self.metrics.incident(event);
                    tracing::info!(incident = %id, event = edgeops_eventsourcing::DomainEvent::event_type(event), "incident");
                }
                Ok(events)
            }
            Err(ExecError::Decide(never)) => match never {},
            Err(err) => Err(anyhow::anyhow!("recording incident {id}: {err}")),
        }
    }
}
