//! Desired and reported model state of edge devices, and the forecasts they make.
//!
//! Deployment writes a [`DesiredModel`] per device into the hub KV bucket
//! [`DESIRED_BUCKET`](crate::streams::DESIRED_BUCKET) under [`desired_key`]; each gateway
//! watches its site's keys, fetches and verifies the artifact, and answers with a reported
//! state event ([`ModelApplied`] or [`ModelRefused`]) on the device aggregate's subject. Desired
//! state is a KV value (the latest wins; history shows what came before); reported state is
//! events, so that an auditor sees every apply and every refusal.

use chrono::{DateTime, Utc};
use edgeops_artifacts::SignedManifest;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::compression::decompressed;
use crate::dead_letter::{RejectCode, Rejection};
use crate::envelope::EventData;
use crate::ids::{DeviceId, SiteId};

/// Reported-state events are events of the `device` aggregate, id `<site>:<device>`.
pub const DEVICE_AGGREGATE: &str = "device";

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
}

/// Forecasts of one device as the gateway sends them to the hub: at most one per feature bin,
/// those that share metric, model, version, kind, horizon and bin width in one message, what
/// they share written once. Origins are a start and steps in bins, so a run of consecutive bins
/// costs a digit each. Values are integers in units of `10^value_exponent`, each written as its
/// difference from the one before: a forecast moves little from one bin to the next, so with
/// zstd on top a forecast costs one or two bytes of uplink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastPack {
    pub site: SiteId,
    pub device: DeviceId,
    pub metric: String,
    pub model: Option<String>,
    pub version: Option<u32>,
    pub kind: ForecastKind,
    pub horizon_bins: u32,
    pub interval_secs: i64,
    /// The first forecast's origin.
    pub first_origin: DateTime<Utc>,
    /// Per forecast, bins since the previous one's origin (the first's is 0).
    pub bin_steps: Vec<u32>,
    /// The decimal exponent of the values' unit: the largest value keeps the significant
    /// digits the pack was made with.
    pub value_exponent: i32,
    /// Per forecast, its value in units of `10^value_exponent`, less the previous forecast's
    /// (the first's less zero).
    pub value_steps: Vec<i64>,
    /// The values while packing (not sent).
    #[serde(skip)]
    values: Vec<f64>,
}

impl ForecastPack {
    /// Packs `forecasts` (one device's, in origin order), their values to `significant_digits`
    /// of the pack's largest: a new pack starts wherever what they share changes or an origin
    /// does not move forward by whole bins.
    pub fn pack(forecasts: &[Forecast], significant_digits: i32) -> Vec<Self> {
        let mut packs: Vec<Self> = Vec::new();
        for forecast in forecasts {
            let interval = forecast_interval_secs(forecast);
            if let Some(pack) = packs.last_mut()
                && let Some(step) = pack.step_to(forecast, interval)
            {
                pack.bin_steps.push(step);
                pack.values.push(forecast.value);
                continue;
            }
            packs.push(Self {
                site: forecast.site.clone(),
                device: forecast.device.clone(),
                metric: forecast.metric.clone(),
                model: forecast.model.clone(),
                version: forecast.version,
                kind: forecast.kind,
                horizon_bins: forecast.horizon_bins,
                interval_secs: interval,
                first_origin: forecast.ts,
                bin_steps: vec![0],
                value_exponent: 0,
                value_steps: Vec::new(),
                values: vec![forecast.value],
            });
        }
        for pack in &mut packs {
            pack.quantise(significant_digits);
        }
        packs
    }

    /// Writes the values as steps of integers in units of `10^value_exponent`.
    fn quantise(&mut self, significant_digits: i32) {
        let largest = self.values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        self.value_exponent = if largest > 0.0 && largest.is_finite() {
            (largest.log10().floor() as i32 + 1 - significant_digits.max(1))
                .clamp(-MAX_EXPONENT, MAX_EXPONENT)
        } else {
            0
        };
        let mut previous = 0_i64;
        self.value_steps = std::mem::take(&mut self.values)
            .into_iter()
            .map(|value| {
                let units = (value / unit(self.value_exponent)).round() as i64;
                let step = units - previous;
                previous = units;
                step
            })
            .collect();
    }

    /// The values it carries.
    fn values(&self) -> Vec<f64> {
        let mut units = 0_i64;
        self.value_steps
            .iter()
            .map(|step| {
                units = units.saturating_add(*step);
                // Dividing by an exact power of ten gives the nearest double: 6123 → 612.3.
                if self.value_exponent < 0 {
                    units as f64 / 10_f64.powi(-self.value_exponent)
                } else {
                    units as f64 * 10_f64.powi(self.value_exponent)
                }
            })
            .collect()
    }

    /// Bins from this pack's last origin to `forecast`'s, if it can join the pack.
    fn step_to(&self, forecast: &Forecast, interval: i64) -> Option<u32> {
        let same = self.site == forecast.site
            && self.device == forecast.device
            && self.metric == forecast.metric
            && self.model == forecast.model
            && self.version == forecast.version
            && self.kind == forecast.kind
            && self.horizon_bins == forecast.horizon_bins
            && self.interval_secs == interval
            && interval > 0;
        let last = self.origins().last().copied()?;
        let seconds = (forecast.ts - last).num_seconds();
        (same && seconds > 0 && seconds % interval == 0)
            .then(|| u32::try_from(seconds / interval).ok())
            .flatten()
    }

    fn origins(&self) -> Vec<DateTime<Utc>> {
        let mut origin = self.first_origin;
        self.bin_steps
            .iter()
            .map(|step| {
                origin += chrono::Duration::seconds(self.interval_secs * i64::from(*step));
                origin
            })
            .collect()
    }

    /// The forecasts it carries.
    pub fn forecasts(&self) -> Vec<Forecast> {
        let horizon = chrono::Duration::seconds(self.interval_secs * i64::from(self.horizon_bins));
        self.origins()
            .into_iter()
            .zip(self.values())
            .map(|(ts, value)| Forecast {
                ts,
                valid_at: ts + horizon,
                site: self.site.clone(),
                device: self.device.clone(),
                metric: self.metric.clone(),
                model: self.model.clone(),
                version: self.version,
                horizon_bins: self.horizon_bins,
                value,
                kind: self.kind,
            })
            .collect()
    }
}

/// The largest decimal exponent of a pack's unit either way (a value stays a finite double).
const MAX_EXPONENT: i32 = 30;

/// One unit of `10^exponent`.
fn unit(exponent: i32) -> f64 {
    10_f64.powi(exponent)
}

/// A forecast's bin width: its horizon's length over its bins (0 when it has no horizon).
fn forecast_interval_secs(forecast: &Forecast) -> i64 {
    match i64::from(forecast.horizon_bins) {
        0 => 0,
        bins => (forecast.valid_at - forecast.ts).num_seconds() / bins,
    }
}

/// The forecasts of one hub message on `edgeops.hub.forecasts.>`: a JSON array of
/// [`ForecastPack`]s (what a gateway sends per flush, every device of its site in one message),
/// one pack, or a single [`Forecast`] (what a person may publish by hand), as JSON text or a
/// zstd frame of it.
pub fn decode_hub_forecasts(payload: &[u8]) -> Result<Vec<Forecast>, Rejection> {
    let text = decompressed(payload, MAX_FORECAST_MESSAGE_BYTES)?;
    let value: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|err| Rejection::new(RejectCode::InvalidJson, err.to_string()))?;
    let forecasts = match value {
        serde_json::Value::Array(packs) => {
            let mut forecasts = Vec::new();
            for pack in packs {
                forecasts.extend(pack_forecasts(pack)?);
            }
            forecasts
        }
        pack if pack.get("value_steps").is_some() => pack_forecasts(pack)?,
        single => vec![
            serde_json::from_value(single)
                .map_err(|err| Rejection::new(RejectCode::WrongType, err.to_string()))?,
        ],
    };
    match forecasts.iter().find(|f| !f.value.is_finite()) {
        Some(_) => Err(Rejection::new(
            RejectCode::NotANumber,
            "a forecast's value is not a finite number",
        )),
        None => Ok(forecasts),
    }
}

/// The forecasts of one pack's JSON, refused when its columns disagree.
fn pack_forecasts(value: serde_json::Value) -> Result<Vec<Forecast>, Rejection> {
    let pack: ForecastPack = serde_json::from_value(value)
        .map_err(|err| Rejection::new(RejectCode::WrongType, err.to_string()))?;
    if pack.value_steps.len() != pack.bin_steps.len() {
        return Err(Rejection::new(
            RejectCode::WrongType,
            format!(
                "{} value steps for {} bin steps",
                pack.value_steps.len(),
                pack.bin_steps.len()
            ),
        ));
    }
    if pack.value_exponent.abs() > MAX_EXPONENT {
        return Err(Rejection::new(
            RejectCode::OutOfRange,
            format!(
                "value exponent {} beyond ±{MAX_EXPONENT}",
                pack.value_exponent
            ),
        ));
    }
    Ok(pack.forecasts())
}

/// What one forecast message may decompress to.
const MAX_FORECAST_MESSAGE_BYTES: usize = 1024 * 1024;

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
        };
        let json = serde_json::to_value(&forecast).unwrap();
        assert_eq!(json["kind"], "persistence");
        assert_eq!(json["ts"], "2026-01-01T00:00:00Z");
        let back: Forecast = serde_json::from_value(json).unwrap();
        assert_eq!(back, forecast);
    }

    fn forecast(origin_bin: i64, value: f64, version: Option<u32>) -> Forecast {
        let ts = DateTime::from_timestamp(1_767_225_600 + origin_bin * 300, 0).unwrap();
        Forecast {
            ts,
            valid_at: ts + chrono::Duration::seconds(6 * 300),
            site: SiteId::parse("s1").unwrap(),
            device: DeviceId::parse("d1").unwrap(),
            metric: "co2_ppm".into(),
            model: version.map(|_| "co2".to_owned()),
            version,
            horizon_bins: 6,
            value,
            kind: if version.is_some() {
                ForecastKind::Model
            } else {
                ForecastKind::Persistence
            },
        }
    }

    #[test]
    fn a_pack_carries_its_forecasts_back_exactly() {
        let forecasts = vec![
            forecast(0, 600.0, None),
            forecast(1, 601.5, None),
            forecast(4, 603.2, None),
            forecast(5, 610.0, Some(2)),
            forecast(6, 611.0, Some(2)),
        ];
        let packs = ForecastPack::pack(&forecasts, 4);
        assert_eq!(packs.len(), 2, "persistence, then the model's");
        assert_eq!(packs[0].bin_steps, vec![0, 1, 3]);
        assert_eq!(
            (packs[0].value_exponent, packs[0].value_steps.clone()),
            (-1, vec![6000, 15, 17])
        );
        let back: Vec<Forecast> = packs.iter().flat_map(ForecastPack::forecasts).collect();
        assert_eq!(back, forecasts);
        let json = serde_json::to_vec(&packs[1]).unwrap();
        assert_eq!(
            decode_hub_forecasts(&json).unwrap(),
            forecasts[3..].to_vec()
        );
        let frame = crate::compression::compress(&json);
        assert_eq!(
            decode_hub_forecasts(&frame).unwrap(),
            forecasts[3..].to_vec()
        );
    }

    #[test]
    fn a_hand_published_forecast_still_reads_and_bad_ones_are_refused() {
        let one = forecast(0, 600.0, None);
        let json = serde_json::to_vec(&one).unwrap();
        assert_eq!(decode_hub_forecasts(&json).unwrap(), vec![one]);
        let code = |payload: &[u8]| decode_hub_forecasts(payload).unwrap_err().code;
        assert_eq!(code(b"{nope"), RejectCode::InvalidJson);
        assert_eq!(code(br#"{"value_steps":[1]}"#), RejectCode::WrongType);
        let mut pack = ForecastPack::pack(&[forecast(0, 1.0, None)], 4).remove(0);
        pack.value_steps.push(2);
        assert_eq!(
            code(&serde_json::to_vec(&pack).unwrap()),
            RejectCode::WrongType,
            "as many values as steps"
        );
        pack.value_steps.pop();
        pack.value_exponent = 400;
        assert_eq!(
            code(&serde_json::to_vec(&pack).unwrap()),
            RejectCode::OutOfRange
        );
    }

    #[test]
    fn values_travel_to_the_significant_digits_asked_for() {
        let forecasts = vec![
            forecast(0, 612.345_678, Some(1)),
            forecast(1, 1013.75, Some(1)),
            forecast(2, -0.4, Some(1)),
        ];
        let back: Vec<f64> = ForecastPack::pack(&forecasts, 4)
            .iter()
            .flat_map(ForecastPack::forecasts)
            .map(|f| f.value)
            .collect();
        assert_eq!(back, vec![612.0, 1014.0, 0.0], "four digits of the largest");
        let room = vec![
            forecast(0, 612.345_678, Some(1)),
            forecast(1, 598.04, Some(1)),
        ];
        let back: Vec<f64> = ForecastPack::pack(&room, 4)
            .iter()
            .flat_map(ForecastPack::forecasts)
            .map(|f| f.value)
            .collect();
        assert_eq!(back, vec![612.3, 598.0]);
        let text = serde_json::to_string(&ForecastPack::pack(&forecasts, 4)[0]).unwrap();
        assert!(!text.contains("\"values\""), "{text}");
    }
}
