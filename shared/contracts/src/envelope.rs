//! The event envelope: the metadata every domain event carries, whatever its payload.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::upcast::{UpcastError, Upcasters};

/// Who caused an event: a person (operator) or a component (service, gateway, scheduler).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    User(String),
    Service(String),
    Device(String),
}

/// Envelope fields, separate from the payload so they can be built and inspected on their own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventMeta {
    /// UUIDv7: time-ordered, and the `Nats-Msg-Id` of the publish.
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub schema_version: u32,
    pub aggregate_kind: String,
    pub aggregate_id: String,
    pub occurred_at: DateTime<Utc>,
    /// The event (or command) that caused this one.
    pub causation_id: Option<Uuid>,
    /// Shared by every event of one flow (a rollout, a training run, one reading's journey).
    pub correlation_id: Uuid,
    pub actor: Actor,
}

/// An event with its metadata. `T` is the payload type; `Value` while not yet upcast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope<T> {
    #[serde(flatten)]
    pub meta: EventMeta,
    pub data: T,
}

/// Event payloads name their own type and the version they are written in.
pub trait EventData: Serialize {
    const EVENT_TYPE: &'static str;
    const SCHEMA_VERSION: u32;
}

impl<T: EventData> EventEnvelope<T> {
    /// A new event that starts its own flow (its correlation id is its own id).
    pub fn new(aggregate_kind: &str, aggregate_id: &str, actor: Actor, data: T) -> Self {
        let id = Uuid::now_v7();
        Self {
            meta: EventMeta {
                id,
                event_type: T::EVENT_TYPE.to_owned(),
                schema_version: T::SCHEMA_VERSION,
                aggregate_kind: aggregate_kind.to_owned(),
                aggregate_id: aggregate_id.to_owned(),
                occurred_at: Utc::now(),
                causation_id: None,
                correlation_id: id,
                actor,
            },
            data,
        }
    }

    /// Marks this event as caused by `cause`, joining the cause's flow.
    pub fn caused_by(mut self, cause: &EventMeta) -> Self {
        self.meta.causation_id = Some(cause.id);
        self.meta.correlation_id = cause.correlation_id;
        self
    }
}

impl EventEnvelope<Value> {
    /// Reads a stored event of any version and upcasts its data to the current schema.
    pub fn decode(bytes: &[u8], upcasters: &Upcasters) -> Result<Self, UpcastError> {
        let mut envelope: Self = serde_json::from_slice(bytes).map_err(UpcastError::Malformed)?;
        let (version, data) = upcasters.upcast(
            &envelope.meta.event_type,
            envelope.meta.schema_version,
            std::mem::take(&mut envelope.data),
        )?;
        envelope.meta.schema_version = version;
        envelope.data = data;
        Ok(envelope)
    }

    /// The payload as its current typed form.
    pub fn into_typed<T: serde::de::DeserializeOwned>(
        self,
    ) -> Result<EventEnvelope<T>, UpcastError> {
        let data = serde_json::from_value(self.data).map_err(UpcastError::Malformed)?;
        Ok(EventEnvelope {
            meta: self.meta,
            data,
        })
    }
}
