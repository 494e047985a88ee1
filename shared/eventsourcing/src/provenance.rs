//! Who records events and why: the actor, the event that caused them and the flow they
//! belong to, turned into each event's envelope.

use chrono::Utc;
use edgeops_contracts::Actor;
use edgeops_contracts::envelope::{EventEnvelope, EventMeta};
use serde_json::Value;
use uuid::Uuid;

use crate::aggregate::{Aggregate, DomainEvent};

/// The cause of each event, when events of one append have different causes (a batch of
/// device reports, each the cause of its own acknowledgement).
pub type CauseOf<'a, E> = &'a (dyn Fn(&E) -> Option<Uuid> + Sync);

/// The envelope fields an append gives its events.
#[derive(Clone, Copy)]
pub struct Provenance<'a, E> {
    actor: &'a Actor,
    /// The flow the events join; `None`: each starts its own (its correlation id is its id).
    correlation: Option<Uuid>,
    cause: Option<Uuid>,
    cause_of: Option<CauseOf<'a, E>>,
}

impl<'a, E> Provenance<'a, E> {
    /// Events `actor` records on its own account: no cause, each its own flow.
    pub fn by(actor: &'a Actor) -> Self {
        Self {
            actor,
            correlation: None,
            cause: None,
            cause_of: None,
        }
    }

    /// Caused by `cause` (when there is one), joining its flow.
    pub fn caused_by(mut self, cause: Option<&EventMeta>) -> Self {
        if let Some(cause) = cause {
            self.cause = Some(cause.id);
            self.correlation = Some(cause.correlation_id);
        }
        self
    }

    /// Every event in the flow `correlation` (a rollout's id: its events and the reports
    /// about it).
    pub fn in_flow(mut self, correlation: Uuid) -> Self {
        self.correlation = Some(correlation);
        self
    }

    /// Each event's cause, as `cause_of` names it.
    pub fn cause_of(mut self, cause_of: CauseOf<'a, E>) -> Self {
        self.cause_of = Some(cause_of);
        self
    }

    pub fn actor(&self) -> &Actor {
        self.actor
    }
}

impl<E: DomainEvent> Provenance<'_, E> {
    /// The envelope of `event` of instance `id` of `A`.
    pub fn envelope<A: Aggregate<Event = E>>(
        &self,
        id: &str,
        event: &E,
    ) -> Result<EventEnvelope<Value>, serde_json::Error> {
        let event_id = Uuid::now_v7();
        let cause = match self.cause_of {
            Some(cause_of) => cause_of(event),
            None => self.cause,
        };
        Ok(EventEnvelope {
            meta: EventMeta {
                id: event_id,
                event_type: event.event_type().to_owned(),
                schema_version: event.schema_version(),
                aggregate_kind: A::KIND.to_owned(),
                aggregate_id: id.to_owned(),
                occurred_at: Utc::now(),
                causation_id: cause,
                correlation_id: self.correlation.unwrap_or(event_id),
                actor: self.actor.clone(),
            },
            data: event.to_data()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::tests::{Counter, CounterEvent};

    fn user() -> Actor {
        Actor::User("ana".into())
    }

    #[test]
    fn an_uncaused_event_starts_its_own_flow() {
        let actor = user();
        let envelope = Provenance::by(&actor)
            .envelope::<Counter>("c1", &CounterEvent::Added(2))
            .unwrap();
        assert_eq!(envelope.meta.correlation_id, envelope.meta.id);
        assert_eq!(envelope.meta.causation_id, None);
        assert_eq!(envelope.meta.aggregate_kind, "counter");
        assert_eq!(envelope.meta.aggregate_id, "c1");
        assert_eq!(envelope.meta.event_type, "counter.added");
        assert_eq!(envelope.data, serde_json::json!({"by": 2}));
    }

    #[test]
    fn a_caused_event_joins_its_causes_flow() {
        let actor = user();
        let cause = Provenance::by(&actor)
            .envelope::<Counter>("c1", &CounterEvent::Added(1))
            .unwrap()
            .meta;
        let envelope = Provenance::by(&actor)
            .caused_by(Some(&cause))
            .envelope::<Counter>("c1", &CounterEvent::Added(2))
            .unwrap();
        assert_eq!(envelope.meta.causation_id, Some(cause.id));
        assert_eq!(envelope.meta.correlation_id, cause.correlation_id);
    }

    #[test]
    fn each_event_can_name_its_own_cause_in_a_fixed_flow() {
        let actor = user();
        let flow = Uuid::now_v7();
        let cause_of = |event: &CounterEvent| match event {
            CounterEvent::Added(n) => Some(Uuid::from_u128(u128::from(*n))),
            CounterEvent::Reset => None,
        };
        let provenance = Provenance::by(&actor).in_flow(flow).cause_of(&cause_of);
        let added = provenance
            .envelope::<Counter>("c1", &CounterEvent::Added(7))
            .unwrap();
        let reset = provenance
            .envelope::<Counter>("c1", &CounterEvent::Reset)
            .unwrap();
        assert_eq!(added.meta.causation_id, Some(Uuid::from_u128(7)));
        assert_eq!(reset.meta.causation_id, None);
        assert_eq!(
            (added.meta.correlation_id, reset.meta.correlation_id),
            (flow, flow)
        );
    }
}
