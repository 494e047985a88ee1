//! The registry's request and reply bodies. The service, the `edgeops models` command, other
//! services and the tests share these types so they cannot drift apart.

use chrono::{DateTime, Utc};
use edgeops_contracts::Actor;
use edgeops_contracts::manifest::{ArtifactRef, FeatureSpecRef, Lineage};
use serde::{Deserialize, Serialize};

use crate::{Gate, Holdout, HoldoutMetrics, Stage};

/// `promote`: move a version to `staging` or `prod` through the gates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromoteRequest {
    pub model: String,
    pub version: u32,
    pub to: Stage,
    /// Who asks, recorded as the event's actor.
    pub actor: String,
}

/// `archive`: withdraw a version for good, with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiveRequest {
    pub model: String,
    pub version: u32,
    pub actor: String,
    pub reason: String,
}

/// `versions`: one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRequest {
    pub model: String,
}

/// `version` and `manifest`: one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRequest {
    pub model: String,
    pub version: u32,
}

/// A command's answer: where the version is now, and the stream sequence that says so (the
/// projection that serves queries catches up with it shortly after).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandReply {
    pub model: String,
    pub version: u32,
    pub stage: Stage,
    pub sequence: u64,
    /// The gates' explanations, or the archive reason.
    pub reason: String,
}

/// Which version serves a scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Serving {
    pub scope: String,
    pub version: u32,
}

/// `models` answers a list of these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    pub model: String,
    pub versions: u32,
    pub latest_version: u32,
    pub first_registered_at: DateTime<Utc>,
    /// The current prod version of each scope that has one.
    pub serving: Vec<Serving>,
}

/// `versions` answers a list of these, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionSummary {
    pub model: String,
    pub version: u32,
    pub scope: String,
    pub stage: Stage,
    /// When the version entered `stage`; `None` while in dev since registration.
    pub stage_since: Option<DateTime<Utc>>,
    pub registered_at: DateTime<Utc>,
    pub candidate_rmse: Option<f64>,
    pub persistence_rmse: Option<f64>,
    pub signed: bool,
    /// Whether this is the current prod version of its scope.
    pub serving: bool,
}

impl VersionSummary {
    /// The share of persistence's RMSE the model removes (0.2 = 20% better), when scored.
    pub fn skill_vs_persistence(&self) -> Option<f64> {
        match (self.candidate_rmse, self.persistence_rmse) {
            (Some(rmse), Some(persistence)) if persistence > 0.0 => Some(1.0 - rmse / persistence),
            _ => None,
        }
    }
}

/// One entry of a version's stage history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageChangeRecord {
    pub from: Stage,
    pub to: Stage,
    pub actor: Actor,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// One refused promotion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateFailureRecord {
    pub to: Stage,
    pub gate: Gate,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// `version`: everything the registry knows about one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionDetail {
    #[serde(flatten)]
    pub summary: VersionSummary,
    pub artifact: ArtifactRef,
    pub feature_spec: FeatureSpecRef,
    pub horizon_bins: u32,
    pub holdout: Holdout,
    pub metrics: Option<HoldoutMetrics>,
    /// Training run, dataset fingerprint, code version.
    pub lineage: Lineage,
    pub signer_key_id: Option<String>,
    pub stage_history: Vec<StageChangeRecord>,
    pub gate_failures: Vec<GateFailureRecord>,
}
