//! What an aggregate implements, and the pure half of loading one: reading a stored event
//! (upcast to the current schema) and folding it into the state, with the stream sequence to
//! append after. Nothing here does I/O, so every rule of it is tested without NATS.

use edgeops_contracts::envelope::{EventEnvelope, EventMeta};
use edgeops_contracts::upcast::{UpcastError, Upcasters};
use serde_json::Value;

/// An aggregate's event as the envelope carries it: the envelope's `type` names the variant,
/// `data` holds the rest.
pub trait DomainEvent: Clone + Send + Sync + Sized + 'static {
    /// The envelope's event type (`rollout.started`).
    fn event_type(&self) -> &'static str;
    /// The schema version this event is written in.
    fn schema_version(&self) -> u32;
    /// The envelope's `data`.
    fn to_data(&self) -> Result<Value, serde_json::Error>;
    /// Reads `data` of a stored event already upcast to the current schema.
    fn from_data(event_type: &str, data: Value) -> Result<Self, EventDecodeError>;
}

#[derive(Debug, thiserror::Error)]
pub enum EventDecodeError {
    #[error("{0:?} is not an event type of this aggregate")]
    UnknownType(String),
    #[error("malformed event: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// What loading does with an event type the aggregate does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownEvents {
    /// The aggregate cannot be loaded: deciding on part of a history could contradict the rest.
    Refuse,
    /// Other writers share the subject (the training run's): their events are passed over.
    Skip,
}

/// A consistency boundary: commands are decided against its state into events, and events
/// are folded into state. Pure and synchronous; the [`EventStore`](crate::EventStore) does
/// the loading and appending.
pub trait Aggregate: Default + Clone + Send + Sync + 'static {
    /// The envelope's `aggregate_kind`: the instance's subject is
    /// `edgeops.events.<KIND>.<id>`.
    const KIND: &'static str;
    const UNKNOWN_EVENTS: UnknownEvents = UnknownEvents::Refuse;
    /// How the events an operator does not see in a history ([`Aggregate::in_history`]) are
    /// named when a conflict is explained.
    const OUTSIDE_HISTORY: &'static str = "events outside the history";

    type Command: Clone + Send + Sync;
    type Event: DomainEvent;
    type Error: Send;

    /// The project's upcasters plus this aggregate's event types.
    fn upcasters() -> &'static Upcasters;
    fn decide(&self, command: Self::Command) -> Result<Vec<Self::Event>, Self::Error>;
    fn apply(&mut self, event: &Self::Event);

    /// Whether `event` shows in the history an operator reads (high-volume bookkeeping,
    /// like a device's acknowledgement, does not).
    fn in_history(_event: &Self::Event) -> bool {
        true
    }
}

/// One stored event with where and how it was recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded<E> {
    pub sequence: u64,
    pub meta: EventMeta,
    pub event: E,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Envelope(#[from] UpcastError),
    #[error(transparent)]
    Event(#[from] EventDecodeError),
}

impl DecodeError {
    /// Written by a newer version of the service: it must be upgraded, not the event dropped.
    pub fn is_from_the_future(&self) -> bool {
        matches!(
            self,
            DecodeError::Envelope(UpcastError::FromTheFuture { .. })
        )
    }
}

/// Reads one stored event of `A`, upcast to the current schema.
pub fn decode<A: Aggregate>(bytes: &[u8]) -> Result<(EventMeta, A::Event), DecodeError> {
    let envelope = EventEnvelope::decode(bytes, A::upcasters())?;
    let event = A::Event::from_data(&envelope.meta.event_type, envelope.data)?;
    Ok((envelope.meta, event))
}

/// An aggregate as its stream holds it, and the sequence to append after.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<A: Aggregate> {
    pub state: A,
    /// Stream sequence of the instance's last event (of any type); 0 while it has none.
    pub last_sequence: u64,
    pub recorded: Vec<Recorded<A::Event>>,
}

impl<A: Aggregate> Default for Loaded<A> {
    fn default() -> Self {
        Self {
            state: A::default(),
            last_sequence: 0,
            recorded: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the event at stream sequence {sequence} is unreadable: {source}")]
pub struct Unreadable {
    pub sequence: u64,
    #[source]
    pub source: DecodeError,
}

impl<A: Aggregate> Loaded<A> {
    /// Folds one recorded event in.
    pub fn record(&mut self, recorded: Recorded<A::Event>) {
        self.state.apply(&recorded.event);
        self.last_sequence = recorded.sequence;
        self.recorded.push(recorded);
    }

    /// Folds stored events (sequence, bytes), oldest first. Strict: an unreadable event stops
    /// the fold, unless it is of a type `A` skips ([`UnknownEvents::Skip`]).
    pub fn fold_stored<B: AsRef<[u8]>>(
        mut self,
        stored: impl IntoIterator<Item = (u64, B)>,
    ) -> Result<Self, Unreadable> {
        for (sequence, bytes) in stored {
            match decode::<A>(bytes.as_ref()) {
                Ok((meta, event)) => self.record(Recorded {
                    sequence,
                    meta,
                    event,
                }),
                Err(DecodeError::Event(EventDecodeError::UnknownType(_)))
                    if A::UNKNOWN_EVENTS == UnknownEvents::Skip =>
                {
                    self.last_sequence = sequence;
                }
                Err(source) => return Err(Unreadable { sequence, source }),
            }
        }
        Ok(self)
    }

    /// The events, oldest first.
    pub fn events(&self) -> impl Iterator<Item = &A::Event> {
        self.recorded.iter().map(|r| &r.event)
    }

    /// What an operator sees in the history ([`Aggregate::in_history`]).
    pub fn history(&self) -> impl Iterator<Item = &Recorded<A::Event>> {
        self.recorded.iter().filter(|r| A::in_history(&r.event))
    }

    /// The history after stream sequence `sequence`.
    pub fn history_after(&self, sequence: u64) -> impl Iterator<Item = &Recorded<A::Event>> {
        self.history().filter(move |r| r.sequence > sequence)
    }
}

#[cfg(test)]
pub(crate) mod tests;
