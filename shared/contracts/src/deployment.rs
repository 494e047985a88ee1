//! Desired and reported model state of edge devices, and the forecasts they make.
//!
//! Deployment writes a [`DesiredModel`] per device into the hub KV bucket
//! [`DESIRED_BUCKET`](crate::streams::DESIRED_BUCKET) under [`desired_key`]; each gateway
//! watches its site's keys, fetches and verifies the artifact, and answers with a reported
//! state event ([`ModelApplied`] or [`ModelRefused`]) on the device aggregate's subject. Desired
//! state is a KV value (the latest wins; history shows what came before); reported state is
//! events, so that an auditor sees every apply and every refusal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::EventData;
use crate::ids::{DeviceId, SiteId};
use crate::manifest::SignedManifest;

mod forecast_pack;
pub use forecast_pack::{ForecastPack, decode_hub_forecasts};

/// Reported-state events are events of the `device` aggregate, id `<site>:<device>`.
pub const DEVICE_AGGREGATE: &str = "device";

/// Deployment's own aggregate, one per rollout (id: the rollout's UUID). Its projection
/// consumer filters on this kind, so the service and the topology must read the one constant.
pub const ROLLOUT_AGGREGATE: &str = "rollout";

/// The aggregate id of one device: `<site>:<device>` (`:` is not a subject wildcard).
pub fn device_aggregate_id(site: &SiteId, device: &DeviceId) -> String {
    format!("{site}:{device}")
}

/// The KV key of one device's desired model: `<site>.<device>`.
pub fn desired_key(site: &SiteId, device: &DeviceId) -> String {
    format!("{site}.{device}")
}

/// The keys of every device at one site (what a gateway watches).
pub fn desired_keys_of_site(site: &SiteId) -> String {
    format!("{site}.>")
}

/// Site and device of a desired-state key; `None` for anything else.
pub fn parse_desired_key(key: &str) -> Option<(SiteId, DeviceId)> {
    let (site, device) = key.split_once('.')?;
    Some((SiteId::parse(site).ok()?, DeviceId::parse(device).ok()?))
}

/// What one device should run. The signed manifest travels with the desired state so that a
/// gateway can verify the artifact without asking the registry anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredModel {
    /// The rollout that asked for this, if any (a hand-written desired state has none).
    pub rollout: Option<Uuid>,
    pub model: String,
    pub version: u32,
    pub signed: SignedManifest,
    /// The object store holding `signed.manifest.artifact.object_name`.
    pub bucket: String,
}

/// Where an applied model came from: how long the swap took depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppliedFrom {
    /// Fetched from the object store, verified, loaded and warmed up.
    Fetched,
    /// The previous model, still loaded: a rollback without fetching.
    Previous,
    /// Already serving (loaded from the gateway's disk cache, or applied before a reconnect).
    Serving,
}

/// A device now serves the desired model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelApplied {
    pub site: SiteId,
    pub device: DeviceId,
    pub model: String,
    pub version: u32,
    /// Time to run the warm-up rows when the model was loaded.
    pub warm_up_us: u64,
    pub from: AppliedFrom,
    pub rollout: Option<Uuid>,
}

impl EventData for ModelApplied {
    const EVENT_TYPE: &'static str = "edge.model_applied";
    const SCHEMA_VERSION: u32 = 1;
}

/// Why a gateway refused a desired model. The previous model keeps serving in every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// The manifest is signed by a key this gateway does not trust.
    UnknownKey,
    /// The signature does not cover this manifest (altered manifest or signature).
    BadSignature,
    /// The artifact's size differs from the signed manifest's.
    SizeMismatch,
    /// The artifact's SHA-256 differs from the signed manifest's.
    DigestMismatch,
    /// The desired state names another model or version than its signed manifest.
    ManifestMismatch,
    /// The object store has no object under the manifest's name.
    ArtifactMissing,
    /// ONNX Runtime could not load the artifact, or it does not have the model interface.
    LoadFailed,
    /// The model carries no feature spec, or one this gateway cannot compute, or its inputs
    /// differ from the spec's features.
    BadFeatureSpec,
}

impl RefusalReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownKey => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::SizeMismatch => "size_mismatch",
            Self::DigestMismatch => "digest_mismatch",
            Self::ManifestMismatch => "manifest_mismatch",
            Self::ArtifactMissing => "artifact_missing",
            Self::LoadFailed => "load_failed",
            Self::BadFeatureSpec => "bad_feature_spec",
        }
    }
}

/// A device refused the desired model and keeps serving what it served before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRefused {
    pub site: SiteId,
    pub device: DeviceId,
    pub model: String,
    pub version: u32,
    pub reason: RefusalReason,
    /// The verifier's or loader's message, for an operator.
    pub detail: String,
    pub rollout: Option<Uuid>,
}

impl EventData for ModelRefused {
    const EVENT_TYPE: &'static str = "edge.model_refused";
    const SCHEMA_VERSION: u32 = 1;
}

/// Whether a forecast came from a model or from the persistence baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForecastKind {
    Model,
    /// The target's latest value: no model is loaded, or its input vector cannot be built yet.
    Persistence,
}

/// One forecast of one device, published at the site and forwarded to the hub. Telemetry, like
/// a reading: no envelope. Monitoring joins it with the actual value at `valid_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Start of the bin the forecast is made from (its origin).
    pub ts: DateTime<Utc>,
    /// The time the forecast is for: `ts + horizon_bins` bins.
    pub valid_at: DateTime<Utc>,
    pub site: SiteId,
    pub device: DeviceId,
    /// The forecast metric (the feature spec's target).
    pub metric: String,
    pub model: Option<String>,
    pub version: Option<u32>,
    pub horizon_bins: u32,
    pub value: f64,
    pub kind: ForecastKind,
    /// The feature row the model was given, in its spec's column order, as the model takes it
    /// (f32). Published at the site, so an operator can see what the model saw; never
    /// uplinked (the hub has the same rows in preprocessing's table). `None` for persistence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<f32>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_site_and_device_and_parse_back() {
        let site = SiteId::parse("s1").unwrap();
        let device = DeviceId::parse("room-1").unwrap();
        assert_eq!(desired_key(&site, &device), "s1.room-1");
        assert_eq!(desired_keys_of_site(&site), "s1.>");
        assert_eq!(device_aggregate_id(&site, &device), "s1:room-1");
        assert_eq!(parse_desired_key("s1.room-1"), Some((site, device)));
        for bad in ["s1", "s1.a.b", ".d", "s1.", "s 1.d"] {
            assert_eq!(parse_desired_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn reasons_serialize_as_their_codes() {
        for reason in [
            RefusalReason::UnknownKey,
            RefusalReason::BadSignature,
            RefusalReason::SizeMismatch,
            RefusalReason::DigestMismatch,
            RefusalReason::ManifestMismatch,
            RefusalReason::ArtifactMissing,
            RefusalReason::LoadFailed,
            RefusalReason::BadFeatureSpec,
        ] {
            let json = serde_json::to_value(reason).unwrap();
            assert_eq!(json, serde_json::json!(reason.as_str()));
        }
    }

    #[test]
    fn a_forecast_reads_as_plain_json() {
        let forecast = Forecast {
            ts: DateTime::from_timestamp(1_767_225_600, 0).unwrap(),
            valid_at: DateTime::from_timestamp(1_767_229_200, 0).unwrap(),
            site: SiteId::parse("s1").unwrap(),
            device: DeviceId::parse("d1").unwrap(),
            metric: "co2_ppm".into(),
            model: None,
            version: None,
            horizon_bins: 12,
            value: 612.5,
            kind: ForecastKind::Persistence,
            features: None,
        };
        let json = serde_json::to_value(&forecast).unwrap();
        assert_eq!(json["kind"], "persistence");
        assert_eq!(json["ts"], "2026-01-01T00:00:00Z");
        let back: Forecast = serde_json::from_value(json).unwrap();
        assert_eq!(back, forecast);
    }
}
