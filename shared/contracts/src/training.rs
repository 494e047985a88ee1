//! Training runs and what they hand to the registry: the scope a model serves, the run's events
//! (requested, started, completed, failed), and the drift signal that asks for a new run.
//! A run's events share the subject `edgeops.events.training_run.<run id>`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::EventData;
use crate::ids::{DeviceId, IdError, SiteId};
use crate::manifest::ArtifactRef;

pub const RUN_AGGREGATE: &str = "training_run";
/// Least share of persistence's holdout RMSE a model must remove to count as beating it: the
/// promotion gate's bar, and the bar training's tests hold models to. A margin, not zero: on
/// data nothing can forecast (a random walk) a candidate can come out a hair ahead by chance.
pub const MIN_SKILL_VS_PERSISTENCE: f64 = 0.01;
/// Drift signals are events of the `monitor` aggregate, one instance per scope.
pub const MONITOR_AGGREGATE: &str = "monitor";

/// Which devices' feature rows a model learns from and serves.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    Device {
        site: SiteId,
        device: DeviceId,
    },
    Site {
        site: SiteId,
    },
    /// A named set of devices (e.g. all rooms of one kind across sites).
    Group {
        name: SiteId,
        devices: Vec<(SiteId, DeviceId)>,
    },
}

impl Scope {
    /// One subject token naming the scope: `site:<s>`, `device:<s>:<d>`, `group:<name>`.
    pub fn key(&self) -> String {
        match self {
            Scope::Device { site, device } => format!("device:{site}:{device}"),
            Scope::Site { site } => format!("site:{site}"),
            Scope::Group { name, .. } => format!("group:{name}"),
        }
    }

    /// Parses `site:<s>` or `device:<s>:<d>` (groups need their device list: use JSON).
    pub fn parse(text: &str) -> Result<Scope, ScopeError> {
        let parts: Vec<&str> = text.split(':').collect();
        match parts.as_slice() {
            ["site", site] => Ok(Scope::Site {
                site: SiteId::parse(*site)?,
            }),
            ["device", site, device] => Ok(Scope::Device {
                site: SiteId::parse(*site)?,
                device: DeviceId::parse(*device)?,
            }),
            _ => Err(ScopeError::Format(text.to_owned())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScopeError {
    #[error("scope {0:?} is neither site:<site> nor device:<site>:<device>")]
    Format(String),
    #[error(transparent)]
    Id(#[from] IdError),
}

/// Why a run was asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    Command,
    Schedule { every_secs: u64 },
    DataVolume { new_rows: u64, threshold: u64 },
    Drift { signal: Uuid },
}

/// What a run trains: a model name, the rows it learns from, and the forecast it makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRequest {
    pub model: String,
    pub scope: Scope,
    /// Feature spec by name (`indoor_air`, `outdoor_pm25`); its current version is used.
    pub spec: String,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub horizon_bins: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRequested {
    pub run: Uuid,
    pub request: RunRequest,
    pub trigger: Trigger,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingStarted {
    pub run: Uuid,
}

/// Enough to rebuild the same dataset later: the scope, the range, the spec and a content hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetFingerprint {
    pub scope: Scope,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub spec_name: String,
    pub spec_version: u32,
    pub horizon_bins: u32,
    pub rows: usize,
    pub content_sha256: String,
}

impl DatasetFingerprint {
    /// The short form stored in manifests: `<spec>@v<version>/<scope>/<sha256>`.
    pub fn id(&self) -> String {
        format!(
            "{}@v{}/{}/{}",
            self.spec_name,
            self.spec_version,
            self.scope.key(),
            self.content_sha256
        )
    }
}

/// Forecast scores: RMSE, MAE and MASE (MAE scaled by the training part's in-sample
/// persistence MAE at the same horizon, so 1.0 means "as good as persistence was in training").
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub rmse: f64,
    pub mae: f64,
    pub mase: f64,
    pub rows: usize,
}

impl Scores {
    /// Scores `(predicted, actual)` pairs; `None` when there is nothing to score.
    pub fn of(pairs: impl IntoIterator<Item = (f64, f64)>, mase_scale: f64) -> Option<Scores> {
        let (mut n, mut squared, mut absolute) = (0usize, 0.0, 0.0);
        for (predicted, actual) in pairs {
            let error = predicted - actual;
            n += 1;
            squared += error * error;
            absolute += error.abs();
        }
        (n > 0).then(|| {
            let mae = absolute / n as f64;
            Scores {
                rmse: (squared / n as f64).sqrt(),
                mae,
                mase: if mase_scale > 0.0 {
                    mae / mase_scale
                } else {
                    f64::INFINITY
                },
                rows: n,
            }
        })
    }

    /// 1 - rmse / baseline rmse: the share of the baseline's error removed (> 0 beats it).
    pub fn skill_over(&self, baseline: &Scores) -> f64 {
        if baseline.rmse > 0.0 {
            1.0 - self.rmse / baseline.rmse
        } else {
            0.0
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateResult {
    pub name: String,
    pub params: serde_json::Value,
    pub validation_rmse: f64,
    pub holdout: Scores,
    pub skill_vs_persistence: f64,
    pub fit_seconds: f64,
}

/// The current production model of the scope, scored on this run's holdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncumbentResult {
    pub model: String,
    pub version: u32,
    pub holdout: Scores,
}

/// Where training stored a model: the object-store bucket and the object in it, named by the
/// one [`ArtifactRef`] a signed manifest also carries. On the wire it stays the flat
/// `{bucket, object, sha256, size_bytes}` that training events have always carried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredArtifactWire", into = "StoredArtifactWire")]
pub struct StoredArtifact {
    pub bucket: String,
    pub artifact: ArtifactRef,
}

/// [`StoredArtifact`]'s shape in events and replies.
#[derive(Clone, Serialize, Deserialize)]
struct StoredArtifactWire {
    bucket: String,
    object: String,
    sha256: String,
    size_bytes: u64,
}

impl From<StoredArtifactWire> for StoredArtifact {
    fn from(wire: StoredArtifactWire) -> Self {
        StoredArtifact {
            bucket: wire.bucket,
            artifact: ArtifactRef {
                object_name: wire.object,
                sha256: wire.sha256,
                size_bytes: wire.size_bytes,
            },
        }
    }
}

impl From<StoredArtifact> for StoredArtifactWire {
    fn from(stored: StoredArtifact) -> Self {
        StoredArtifactWire {
            bucket: stored.bucket,
            object: stored.artifact.object_name,
            sha256: stored.artifact.sha256,
            size_bytes: stored.artifact.size_bytes,
        }
    }
}

/// The exported model run through ONNX Runtime on the holdout rows, against the Rust model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportCheck {
    pub rows: usize,
    pub max_abs_diff: f64,
    pub tolerance: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingCompleted {
    pub run: Uuid,
    pub request: RunRequest,
    pub dataset: DatasetFingerprint,
    pub feature_names: Vec<String>,
    pub holdout_fingerprint: String,
    pub holdout_from: DateTime<Utc>,
    pub train_rows: usize,
    pub holdout_rows: usize,
    pub persistence: Scores,
    pub seasonal_naive: Option<Scores>,
    pub candidates: Vec<CandidateResult>,
    pub winner: String,
    pub incumbent: Option<IncumbentResult>,
    pub artifact: StoredArtifact,
    pub export_check: ExportCheck,
    pub code_version: String,
    pub seconds: f64,
    /// Each feature's distribution in the training rows (see
    /// [`crate::monitoring::FeatureReference`]); the registry copies it into the manifest.
    #[serde(default)]
    pub reference: Vec<crate::monitoring::FeatureReference>,
}

impl TrainingCompleted {
    pub fn winner(&self) -> Option<&CandidateResult> {
        self.candidates.iter().find(|c| c.name == self.winner)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingFailed {
    pub run: Uuid,
    /// Short machine-readable cause (`no_rows`, `too_few_rows`, `feature_always_missing`, ...).
    pub code: String,
    pub reason: String,
}

/// Monitoring saw inputs or errors drift for a scope; training answers with a new run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftDetected {
    pub scope: Scope,
    pub model: String,
    pub spec: String,
    pub horizon_bins: u32,
    pub reason: String,
    /// The incident monitoring opened, with its evidence (absent in signals from before
    /// monitoring recorded incidents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<crate::monitoring::IncidentOpened>,
}

macro_rules! event_data {
    ($($type:ty => $name:literal),* $(,)?) => {
        $(impl EventData for $type {
            const EVENT_TYPE: &'static str = $name;
            const SCHEMA_VERSION: u32 = 1;
        })*
    };
}

event_data! {
    TrainingRequested => "training.requested",
    TrainingStarted => "training.started",
    TrainingCompleted => "training.completed",
    TrainingFailed => "training.failed",
    DriftDetected => "monitoring.drift_detected",
    crate::monitoring::IncidentRecovered => "monitoring.recovered",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_from_their_keys() {
        for text in ["site:beijing", "device:beijing:us-embassy"] {
            assert_eq!(Scope::parse(text).unwrap().key(), text);
        }
        assert!(matches!(
            Scope::parse("building:b1"),
            Err(ScopeError::Format(_))
        ));
        assert!(matches!(Scope::parse("site:a.b"), Err(ScopeError::Id(_))));
    }

    #[test]
    fn a_stored_artifact_keeps_its_flat_wire_shape() {
        let stored = StoredArtifact {
            bucket: "models".into(),
            artifact: ArtifactRef::of("co2-room/run.onnx", b"onnx"),
        };
        let value = serde_json::to_value(&stored).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "bucket": "models",
                "object": "co2-room/run.onnx",
                "sha256": crate::digest::sha256_hex(b"onnx"),
                "size_bytes": 4,
            })
        );
        assert_eq!(
            serde_json::from_value::<StoredArtifact>(value).unwrap(),
            stored
        );
    }

    #[test]
    fn scores_match_a_hand_computation() {
        let scores = Scores::of([(1.0, 2.0), (4.0, 2.0)], 1.5).unwrap();
        assert!((scores.rmse - (2.5f64).sqrt()).abs() < 1e-12);
        assert!((scores.mae - 1.5).abs() < 1e-12);
        assert!((scores.mase - 1.0).abs() < 1e-12);
        assert_eq!(scores.rows, 2);
    }

    #[test]
    fn nothing_to_score_is_none() {
        assert!(Scores::of(std::iter::empty(), 1.0).is_none());
    }

    #[test]
    fn skill_is_the_share_of_error_removed() {
        let base = Scores {
            rmse: 10.0,
            mae: 0.0,
            mase: 0.0,
            rows: 1,
        };
        let better = Scores { rmse: 8.0, ..base };
        assert!((better.skill_over(&base) - 0.2).abs() < 1e-12);
    }
}

/// Body of `edgeops.svc.training.request`: a run request and who asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunCommand {
    #[serde(flatten)]
    pub request: RunRequest,
    /// Operator name recorded as the event's actor.
    pub actor: String,
}

/// Reply of `edgeops.svc.training.request`, and body of `edgeops.svc.training.run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunAccepted {
    pub run: Uuid,
}
