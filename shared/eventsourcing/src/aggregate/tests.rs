//! A counter: the smallest aggregate, for the kit's own tests.

use std::sync::LazyLock;

use edgeops_contracts::Actor;
use edgeops_contracts::upcast::Upcasters;
use serde_json::{Value, json};

use super::*;
use crate::Provenance;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counter {
    pub total: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CounterEvent {
    Added(u32),
    Reset,
}

impl DomainEvent for CounterEvent {
    fn event_type(&self) -> &'static str {
        match self {
            CounterEvent::Added(_) => "counter.added",
            CounterEvent::Reset => "counter.reset",
        }
    }

    fn schema_version(&self) -> u32 {
        2
    }

    fn to_data(&self) -> Result<Value, serde_json::Error> {
        Ok(match self {
            CounterEvent::Added(by) => json!({ "by": by }),
            CounterEvent::Reset => json!({}),
        })
    }

    fn from_data(event_type: &str, data: Value) -> Result<Self, EventDecodeError> {
        match event_type {
            "counter.added" => Ok(CounterEvent::Added(serde_json::from_value(
                data["by"].clone(),
            )?)),
            "counter.reset" => Ok(CounterEvent::Reset),
            other => Err(EventDecodeError::UnknownType(other.to_owned())),
        }
    }
}

impl Aggregate for Counter {
    const KIND: &'static str = "counter";
    type Command = u32;
    type Event = CounterEvent;
    type Error = String;

    fn upcasters() -> &'static Upcasters {
        // v1 named the amount `n`.
        static UPCASTERS: LazyLock<Upcasters> = LazyLock::new(|| {
            Upcasters::default()
                .current("counter.added", 2)
                .step("counter.added", 1, |mut data| {
                    let n = data["n"].take();
                    Ok(json!({ "by": n }))
                })
        });
        &UPCASTERS
    }

    fn decide(&self, add: u32) -> Result<Vec<CounterEvent>, String> {
        match add {
            0 => Ok(vec![]),
            n if self.total.checked_add(n).is_none() => Err("overflow".into()),
            n => Ok(vec![CounterEvent::Added(n)]),
        }
    }

    fn apply(&mut self, event: &CounterEvent) {
        match event {
            CounterEvent::Added(n) => self.total += n,
            CounterEvent::Reset => self.total = 0,
        }
    }

    fn in_history(event: &CounterEvent) -> bool {
        !matches!(event, CounterEvent::Reset)
    }
}

/// A counter at sequences 1.., each event by its actor.
pub fn loaded_with(events: &[(Actor, CounterEvent)]) -> Loaded<Counter> {
    let mut loaded = Loaded::default();
    for (i, (actor, event)) in events.iter().enumerate() {
        let envelope = Provenance::by(actor)
            .envelope::<Counter>("c1", event)
            .unwrap();
        loaded.record(Recorded {
            sequence: i as u64 + 1,
            meta: envelope.meta,
            event: event.clone(),
        });
    }
    loaded
}

fn stored(event: &CounterEvent) -> Vec<u8> {
    let actor = Actor::Service("t".into());
    let envelope = Provenance::by(&actor)
        .envelope::<Counter>("c1", event)
        .unwrap();
    serde_json::to_vec(&envelope).unwrap()
}

fn with_type(event_type: &str, version: u32, data: Value) -> Vec<u8> {
    let mut envelope: Value = serde_json::from_slice(&stored(&CounterEvent::Reset)).unwrap();
    envelope["type"] = json!(event_type);
    envelope["schema_version"] = json!(version);
    envelope["data"] = data;
    serde_json::to_vec(&envelope).unwrap()
}

#[test]
fn stored_events_fold_into_state_and_the_sequence_to_append_after() {
    let loaded = Loaded::<Counter>::default()
        .fold_stored([
            (3, stored(&CounterEvent::Added(2))),
            (8, stored(&CounterEvent::Added(5))),
        ])
        .unwrap();
    assert_eq!(loaded.state.total, 7);
    assert_eq!(loaded.last_sequence, 8);
    assert_eq!(loaded.events().count(), 2);
}

#[test]
fn an_old_event_is_upcast_before_it_is_folded() {
    let loaded = Loaded::<Counter>::default()
        .fold_stored([(1, with_type("counter.added", 1, json!({"n": 4})))])
        .unwrap();
    assert_eq!(loaded.state.total, 4);
}

#[test]
fn an_unknown_event_type_makes_a_strict_aggregate_unloadable() {
    let err = Loaded::<Counter>::default()
        .fold_stored([
            (1, stored(&CounterEvent::Added(1))),
            (2, with_type("counter.teleported", 1, json!({}))),
        ])
        .unwrap_err();
    assert_eq!(err.sequence, 2);
    assert!(err.to_string().contains("teleported"), "{err}");
}

#[test]
fn an_event_from_a_newer_writer_is_told_apart() {
    let err = Loaded::<Counter>::default()
        .fold_stored([(1, with_type("counter.added", 3, json!({"by": 1})))])
        .unwrap_err();
    assert!(err.source.is_from_the_future());
}

#[test]
fn a_skipping_aggregate_passes_over_other_types_but_counts_their_sequence() {
    #[derive(Debug, Clone, Default, PartialEq)]
    struct Lenient(Counter);
    impl Aggregate for Lenient {
        const KIND: &'static str = "counter";
        const UNKNOWN_EVENTS: UnknownEvents = UnknownEvents::Skip;
        type Command = u32;
        type Event = CounterEvent;
        type Error = String;
        fn upcasters() -> &'static Upcasters {
            Counter::upcasters()
        }
        fn decide(&self, add: u32) -> Result<Vec<CounterEvent>, String> {
            self.0.decide(add)
        }
        fn apply(&mut self, event: &CounterEvent) {
            self.0.apply(event);
        }
    }
    let loaded = Loaded::<Lenient>::default()
        .fold_stored([
            (1, stored(&CounterEvent::Added(1))),
            (2, with_type("counter.teleported", 1, json!({}))),
        ])
        .unwrap();
    assert_eq!((loaded.state.0.total, loaded.last_sequence), (1, 2));
    let malformed = Loaded::<Lenient>::default()
        .fold_stored([(1, with_type("counter.added", 2, json!({"by": "x"})))]);
    assert!(malformed.is_err(), "only unknown types are skipped");
}

#[test]
fn the_history_leaves_out_bookkeeping_events() {
    let actor = Actor::Service("s".into());
    let loaded = loaded_with(&[
        (actor.clone(), CounterEvent::Added(1)),
        (actor.clone(), CounterEvent::Reset),
        (actor, CounterEvent::Added(2)),
    ]);
    let sequences: Vec<u64> = loaded.history().map(|r| r.sequence).collect();
    assert_eq!(sequences, [1, 3]);
    assert_eq!(loaded.history_after(1).count(), 1);
}
