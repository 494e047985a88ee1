//! The first domain events and the project's upcaster registry.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dead_letter::DeadLetter;
use crate::envelope::EventData;
use crate::ids::SiteId;
use crate::monitoring::{IncidentKind, IncidentRecovered};
use crate::training::{
    DriftDetected, TrainingCompleted, TrainingFailed, TrainingRequested, TrainingStarted,
};
use crate::upcast::Upcasters;

/// A site joined the fleet: ingest accepts its readings from now on.
///
/// v1 carried only `site` and `name`; v2 added `tags` (for rollout selectors) and renamed
/// `name` to `display_name`. Stored v1 events are upcast on read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteRegistered {
    pub site: SiteId,
    pub display_name: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl EventData for SiteRegistered {
    const EVENT_TYPE: &'static str = "site.registered";
    const SCHEMA_VERSION: u32 = 2;
}

impl EventData for DeadLetter {
    const EVENT_TYPE: &'static str = DeadLetter::EVENT_TYPE;
    const SCHEMA_VERSION: u32 = DeadLetter::SCHEMA_VERSION;
}

fn site_registered_v1_to_v2(mut data: Value) -> Result<Value, String> {
    let object = data.as_object_mut().ok_or("data is not an object")?;
    let name = object
        .remove("name")
        .ok_or("v1 site.registered without \"name\"")?;
    object.insert("display_name".into(), name);
    object.entry("tags").or_insert_with(|| Value::Array(vec![]));
    Ok(data)
}

/// Every upcaster the project knows. Readers call `EventEnvelope::decode(bytes, &upcasters())`.
pub fn upcasters() -> Upcasters {
    Upcasters::default()
        .current(SiteRegistered::EVENT_TYPE, SiteRegistered::SCHEMA_VERSION)
        .step(SiteRegistered::EVENT_TYPE, 1, site_registered_v1_to_v2)
        .current(DeadLetter::EVENT_TYPE, DeadLetter::SCHEMA_VERSION)
        .current(
            TrainingRequested::EVENT_TYPE,
            TrainingRequested::SCHEMA_VERSION,
        )
        .current(TrainingStarted::EVENT_TYPE, TrainingStarted::SCHEMA_VERSION)
        .current(
            TrainingCompleted::EVENT_TYPE,
            TrainingCompleted::SCHEMA_VERSION,
        )
        .current(TrainingFailed::EVENT_TYPE, TrainingFailed::SCHEMA_VERSION)
        .current(DriftDetected::EVENT_TYPE, DriftDetected::SCHEMA_VERSION)
        .current(IncidentKind::PerformanceDegraded.event_type(), 1)
        .current(IncidentKind::DeviceSilent.event_type(), 1)
        .current(IncidentKind::SiteOffline.event_type(), 1)
        .current(IncidentKind::DataQuality.event_type(), 1)
        .current(
            IncidentRecovered::EVENT_TYPE,
            IncidentRecovered::SCHEMA_VERSION,
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{Actor, EventEnvelope};
    use crate::upcast::UpcastError;

    #[test]
    fn a_stored_v1_event_reads_as_v2() {
        let stored = serde_json::json!({
            "id": "01890000-0000-7000-8000-000000000001",
            "type": "site.registered", "schema_version": 1,
            "aggregate_kind": "site", "aggregate_id": "s1",
            "occurred_at": "2026-01-01T00:00:00Z",
            "causation_id": null, "correlation_id": "01890000-0000-7000-8000-000000000001",
            "actor": {"kind": "user", "id": "ops"},
            "data": {"site": "s1", "name": "North wing"}
        });
        let envelope =
            EventEnvelope::decode(&serde_json::to_vec(&stored).unwrap(), &upcasters()).unwrap();
        assert_eq!(envelope.meta.schema_version, 2);
        let typed = envelope.into_typed::<SiteRegistered>().unwrap();
        assert_eq!(typed.data.display_name, "North wing");
        assert!(typed.data.tags.is_empty());
    }

    #[test]
    fn a_current_event_round_trips_with_its_metadata() {
        let data = SiteRegistered {
            site: SiteId::parse("s1").unwrap(),
            display_name: "N".into(),
            tags: vec!["eu".into()],
        };
        let event = EventEnvelope::new("site", "s1", Actor::User("ops".into()), data.clone());
        let bytes = serde_json::to_vec(&event).unwrap();
        let read = EventEnvelope::decode(&bytes, &upcasters())
            .unwrap()
            .into_typed::<SiteRegistered>()
            .unwrap();
        assert_eq!(read.meta, event.meta);
        assert_eq!(read.data, data);
        assert_eq!(read.meta.id.get_version_num(), 7, "event ids are UUIDv7");
    }

    #[test]
    fn an_event_from_a_newer_writer_is_refused_not_misread() {
        let err = upcasters()
            .upcast("site.registered", 3, serde_json::json!({}))
            .unwrap_err();
        assert!(matches!(
            err,
            UpcastError::FromTheFuture {
                found: 3,
                supported: 2,
                ..
            }
        ));
    }

    #[test]
    fn causation_joins_the_causes_flow() {
        let site = || SiteRegistered {
            site: SiteId::parse("s1").unwrap(),
            display_name: "N".into(),
            tags: vec![],
        };
        let first = EventEnvelope::new("site", "s1", Actor::Service("ingest".into()), site());
        let second = EventEnvelope::new("site", "s1", Actor::Service("ingest".into()), site())
            .caused_by(&first.meta);
        assert_eq!(second.meta.causation_id, Some(first.meta.id));
        assert_eq!(second.meta.correlation_id, first.meta.correlation_id);
    }
}
