//! The registry's aggregates in the `EVENTS` stream: loading one by reading its subject, and
//! appending new events with the subject sequence it was loaded at, so a writer that decided
//! on a stale state gets a conflict instead of overwriting someone else's decision.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use async_nats::jetstream::Context;
use edgeops_bus::{HistoryError, PublishEventError, publish_event, read_subject};
use edgeops_contracts::envelope::{EventData, EventEnvelope, EventMeta};
use edgeops_contracts::upcast::{UpcastError, Upcasters};
use edgeops_contracts::{Actor, streams, subjects};

use crate::domain::{
    AGGREGATE_KIND, Allocations, EventDecodeError, MODEL_AGGREGATE, ModelName, ModelVersionEvent,
    ModelVersionKey, ModelVersionState, VersionAllocated, apply, register_allocation_upcasters,
    register_upcasters,
};

/// The project's upcasters plus the registry's own event types.
pub fn upcasters() -> &'static Upcasters {
    static UPCASTERS: LazyLock<Upcasters> = LazyLock::new(|| {
        register_allocation_upcasters(register_upcasters(edgeops_contracts::events::upcasters()))
    });
    &UPCASTERS
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Envelope(#[from] UpcastError),
    #[error(transparent)]
    Event(#[from] EventDecodeError),
}

/// Reads one stored model-version event, upcast to the current schema.
pub fn decode_version_event(bytes: &[u8]) -> Result<(EventMeta, ModelVersionEvent), DecodeError> {
    let envelope = EventEnvelope::decode(bytes, upcasters())?;
    Ok(ModelVersionEvent::from_envelope(envelope)?)
}

#[derive(Debug, thiserror::Error)]
pub enum EventStoreError {
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("the event at stream sequence {sequence} of {subject} is unreadable: {reason}")]
    Unreadable {
        subject: String,
        sequence: u64,
        reason: String,
    },
    #[error(transparent)]
    Publish(#[from] PublishEventError),
}

impl EventStoreError {
    /// Someone else appended to the aggregate after it was loaded.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            EventStoreError::Publish(PublishEventError::Conflict { .. })
        )
    }
}

/// A model version as its stream holds it, and the sequence to append after.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub state: ModelVersionState,
    pub events: Vec<ModelVersionEvent>,
    /// Stream sequence of the version's last event; 0 while it has none.
    pub last_sequence: u64,
}

pub fn version_subject(key: &ModelVersionKey) -> String {
    subjects::aggregate_events(AGGREGATE_KIND, &key.aggregate_id())
}

/// Loads one version. Strict: an event it cannot read makes the version unloadable, since
/// deciding on part of a history could contradict the part left out.
pub async fn load_version(js: &Context, key: &ModelVersionKey) -> Result<Loaded, EventStoreError> {
    let subject = version_subject(key);
    let mut loaded = Loaded::default();
    for (sequence, bytes) in read_subject(js, streams::EVENTS, &subject).await? {
        let (_, event) = decode_version_event(&bytes).map_err(|e| EventStoreError::Unreadable {
            subject: subject.clone(),
            sequence,
            reason: e.to_string(),
        })?;
        loaded.state = apply(std::mem::take(&mut loaded.state), &event);
        loaded.events.push(event);
        loaded.last_sequence = sequence;
    }
    Ok(loaded)
}

/// Every version of `model`, to know which one serves each scope. Lenient: an unreadable
/// event of some version is logged and skipped, so one damaged version cannot block every
/// promotion of its model (the version itself stays unloadable for commands).
pub async fn load_model_versions(
    js: &Context,
    model: &ModelName,
) -> Result<Vec<ModelVersionState>, EventStoreError> {
    let subject = subjects::aggregate_events_under(AGGREGATE_KIND, model.as_str());
    let mut versions: BTreeMap<String, ModelVersionState> = BTreeMap::new();
    for (sequence, bytes) in read_subject(js, streams::EVENTS, &subject).await? {
        match decode_version_event(&bytes) {
            Ok((meta, event)) => {
                let state = versions.entry(meta.aggregate_id).or_default();
                *state = apply(std::mem::take(state), &event);
            }
            Err(err) => {
                tracing::warn!(%model, sequence, error = %err, "skipping an unreadable event");
            }
        }
    }
    Ok(versions.into_values().collect())
}

/// Appends `events` to the version, the first after `expected`, each after the one before.
/// Returns the sequence of the last event appended (`expected` when there are none).
pub async fn append(
    js: &Context,
    key: &ModelVersionKey,
    events: Vec<ModelVersionEvent>,
    expected: u64,
    actor: &Actor,
    cause: Option<&EventMeta>,
) -> Result<u64, EventStoreError> {
    let mut last = expected;
    let id = key.aggregate_id();
    for event in events {
        let publish = Publish {
            js,
            id: &id,
            actor,
            cause,
            expected: last,
        };
        last = match event {
            ModelVersionEvent::Registered(data) => publish.send(data).await?,
            ModelVersionEvent::MetricsAttached(data) => publish.send(data).await?,
            ModelVersionEvent::ManifestSigned(data) => publish.send(data).await?,
            ModelVersionEvent::StageChanged(data) => publish.send(data).await?,
            ModelVersionEvent::GateFailed(data) => publish.send(data).await?,
        };
    }
    Ok(last)
}

/// A model's version allocations and the sequence of the last one.
pub async fn load_allocations(
    js: &Context,
    model: &ModelName,
) -> Result<(Allocations, u64), EventStoreError> {
    let subject = subjects::aggregate_events(MODEL_AGGREGATE, model.as_str());
    let mut allocations = Allocations::default();
    let mut last = 0;
    for (sequence, bytes) in read_subject(js, streams::EVENTS, &subject).await? {
        let unreadable = |reason: String| EventStoreError::Unreadable {
            subject: subject.clone(),
            sequence,
            reason,
        };
        let envelope =
            EventEnvelope::decode(&bytes, upcasters()).map_err(|e| unreadable(e.to_string()))?;
        if envelope.meta.event_type == VersionAllocated::EVENT_TYPE {
            let event = envelope
                .into_typed::<VersionAllocated>()
                .map_err(|e| unreadable(e.to_string()))?;
            allocations = allocations.apply(&event.data);
        }
        last = sequence;
    }
    Ok((allocations, last))
}

/// Records an allocation after `expected`; a conflict means another registration took a number.
pub async fn record_allocation(
    js: &Context,
    model: &ModelName,
    event: VersionAllocated,
    expected: u64,
    actor: &Actor,
    cause: Option<&EventMeta>,
) -> Result<u64, EventStoreError> {
    let publish = Publish {
        js,
        id: model.as_str(),
        actor,
        cause,
        expected,
    };
    publish.send_as(MODEL_AGGREGATE, event).await
}

/// One publish with its envelope fields.
struct Publish<'a> {
    js: &'a Context,
    id: &'a str,
    actor: &'a Actor,
    cause: Option<&'a EventMeta>,
    expected: u64,
}

impl Publish<'_> {
    async fn send<T: EventData>(&self, data: T) -> Result<u64, EventStoreError> {
        self.send_as(AGGREGATE_KIND, data).await
    }

    async fn send_as<T: EventData>(&self, kind: &str, data: T) -> Result<u64, EventStoreError> {
        let mut event = EventEnvelope::new(kind, self.id, self.actor.clone(), data);
        if let Some(cause) = self.cause {
            event = event.caused_by(cause);
        }
        Ok(publish_event(self.js, &event, Some(self.expected))
            .await?
            .sequence)
    }
}
