//! Training runs and what they hand to the registry: the scope a model serves, the run's events
//! (requested, started, completed, failed), and the drift signal that asks for a new run.
//! A run's events share the subject `edgeops.events.training_run.<run id>`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::EventData;
use crate::ids::{DeviceId, IdError, SiteId};

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

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub rmse: f64,
    pub mae: f64,
    pub mase: f64,
    pub rows: usize,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactRef {
    pub bucket: String,
    pub object: String,
    pub sha256: String,
    pub size_bytes: u64,
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
    pub artifact: ArtifactRef,
    pub export_check: ExportCheck,
    pub code_version: String,
    pub seconds: f64,
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

/// The registry's `prod` query: the production version of a model for a scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProdQuery {
    pub model: String,
    pub scope: Scope,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProdVersion {
    pub model: String,
    pub version: u32,
    pub artifact: ArtifactRef,
}

/// Answer to `ProdQuery`: `prod` is `None` while no version of the model is in production.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProdReply {
    pub prod: Option<ProdVersion>,
}
