//! What happened to a model version. Each payload is its own type with its own event type
//! and schema version (so each can be upcast on its own); [`ModelVersionEvent`] gathers them
//! for the aggregate.

use chrono::{DateTime, Utc};
use edgeops_artifacts::{ArtifactRef, FeatureSpecRef, Lineage, SignedManifest};
use edgeops_contracts::envelope::EventData;
use edgeops_contracts::monitoring::FeatureReference;
use edgeops_contracts::upcast::Upcasters;
use edgeops_contracts::{Actor, EventEnvelope, EventMeta};
use edgeops_eventsourcing::DomainEvent;
pub use edgeops_eventsourcing::EventDecodeError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::names::ModelVersionKey;
use edgeops_registry_api::Gate;
use edgeops_registry_api::Stage;
use edgeops_registry_api::metrics::{Holdout, HoldoutMetrics};
use edgeops_registry_api::{ModelName, Scope};

/// The envelope's `aggregate_kind` for every event below (defined once in contracts: the hub
/// topology's projection consumer filters on it too).
pub use edgeops_contracts::registry::MODEL_VERSION_AGGREGATE as AGGREGATE_KIND;

/// A trained model entered the registry, in `dev`. Also the `Register` command's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registered {
    pub model: ModelName,
    pub version: u32,
    pub scope: Scope,
    pub artifact: ArtifactRef,
    pub feature_spec: FeatureSpecRef,
    pub horizon_bins: u32,
    pub lineage: Lineage,
    pub holdout: Holdout,
    /// Each input's distribution in the training rows, in input order, as the run reported it;
    /// the signed manifest carries it. Empty for runs from before references were recorded
    /// (and in their stored events, which have no such field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference: Vec<FeatureReference>,
}

/// Holdout scores, attached once: the signed manifest carries them, so they cannot change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsAttached {
    pub holdout_fingerprint: String,
    pub metrics: HoldoutMetrics,
}

/// The registry vouched for this version; a later signature (key rotation) replaces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestSigned {
    pub signed: SignedManifest,
}

/// `at` is in the payload, not only the envelope, because "current prod" is the latest
/// promotion and the aggregate must be able to tell which that is from events alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageChanged {
    pub from: Stage,
    pub to: Stage,
    pub actor: Actor,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A promotion was refused by a gate. An event, not an error, so the refusal is on record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateFailed {
    pub to: Stage,
    pub gate: Gate,
    pub reason: String,
}

macro_rules! event_data {
    ($($payload:ident => $event_type:literal),* $(,)?) => {
        $(impl EventData for $payload {
            const EVENT_TYPE: &'static str = $event_type;
            const SCHEMA_VERSION: u32 = 1;
        })*

        impl ModelVersionEvent {
            /// The envelope's event type for this payload.
            pub fn event_type(&self) -> &'static str {
                match self {
                    $(ModelVersionEvent::$payload(_) => $payload::EVENT_TYPE,)*
                }
            }

            /// Wraps the payload in an envelope (data without the enum's `type` tag: the
            /// envelope's own `type` names it).
            pub fn into_envelope(
                self,
                key: &ModelVersionKey,
                actor: Actor,
            ) -> Result<EventEnvelope<Value>, serde_json::Error> {
                match self {
                    $(ModelVersionEvent::$payload(data) => untyped(EventEnvelope::new(
                        AGGREGATE_KIND,
                        &key.aggregate_id(),
                        actor,
                        data,
                    )),)*
                }
            }

            /// Reads an envelope already upcast to current versions (`EventEnvelope::decode`).
            pub fn from_envelope(
                envelope: EventEnvelope<Value>,
            ) -> Result<(EventMeta, Self), EventDecodeError> {
                let EventEnvelope { meta, data } = envelope;
                let event = Self::from_data(&meta.event_type, data)?;
                Ok((meta, event))
            }
        }

        impl DomainEvent for ModelVersionEvent {
            fn event_type(&self) -> &'static str {
                ModelVersionEvent::event_type(self)
            }

            fn schema_version(&self) -> u32 {
                match self {
                    $(ModelVersionEvent::$payload(_) => $payload::SCHEMA_VERSION,)*
                }
            }

            fn to_data(&self) -> Result<Value, serde_json::Error> {
                match self {
                    $(ModelVersionEvent::$payload(data) => serde_json::to_value(data),)*
                }
            }

            fn from_data(event_type: &str, data: Value) -> Result<Self, EventDecodeError> {
                Ok(match event_type {
                    $($event_type => ModelVersionEvent::$payload(serde_json::from_value(data)?),)*
                    other => return Err(EventDecodeError::UnknownType(other.to_owned())),
                })
            }
        }

        /// Declares every model-version event's current schema version.
        pub fn register_upcasters(upcasters: Upcasters) -> Upcasters {
            upcasters$(.current($payload::EVENT_TYPE, $payload::SCHEMA_VERSION))*
        }
    };
}

/// The aggregate's events; as JSON, `{"type": "stage_changed", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ModelVersionEvent {
    Registered(Registered),
    MetricsAttached(MetricsAttached),
    ManifestSigned(ManifestSigned),
    StageChanged(StageChanged),
    GateFailed(GateFailed),
}

event_data! {
    Registered => "model_version.registered",
    MetricsAttached => "model_version.metrics_attached",
    ManifestSigned => "model_version.manifest_signed",
    StageChanged => "model_version.stage_changed",
    GateFailed => "model_version.gate_failed",
}

fn untyped<T: EventData>(
    envelope: EventEnvelope<T>,
) -> Result<EventEnvelope<Value>, serde_json::Error> {
    Ok(EventEnvelope {
        meta: envelope.meta,
        data: serde_json::to_value(envelope.data)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::{key, registration};

    #[test]
    fn the_enum_is_tagged_in_snake_case() {
        let event = ModelVersionEvent::GateFailed(GateFailed {
            to: Stage::Prod,
            gate: Gate::BeatsPersistence,
            reason: "r".into(),
        });
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "gate_failed");
        assert_eq!(json["gate"], "beats_persistence");
        assert_eq!(
            serde_json::from_value::<ModelVersionEvent>(json).unwrap(),
            event
        );
    }

    #[test]
    fn an_event_survives_the_envelope_and_upcasting() {
        let event = ModelVersionEvent::Registered(registration());
        let envelope = event
            .clone()
            .into_envelope(&key(), Actor::Service("training".into()))
            .unwrap();
        assert_eq!(envelope.meta.event_type, "model_version.registered");
        assert_eq!(envelope.meta.aggregate_id, "co2-room.3");
        let bytes = serde_json::to_vec(&envelope).unwrap();
        let upcasters = register_upcasters(Upcasters::default());
        let read = EventEnvelope::decode(&bytes, &upcasters).unwrap();
        let (meta, decoded) = ModelVersionEvent::from_envelope(read).unwrap();
        assert_eq!(meta.id, envelope.meta.id);
        assert_eq!(decoded, event);
    }

    #[test]
    fn an_unknown_event_type_is_named() {
        let mut envelope = ModelVersionEvent::Registered(registration())
            .into_envelope(&key(), Actor::User("ops".into()))
            .unwrap();
        envelope.meta.event_type = "model_version.teleported".into();
        let err = ModelVersionEvent::from_envelope(envelope).unwrap_err();
        assert!(err.to_string().contains("teleported"));
    }
}
