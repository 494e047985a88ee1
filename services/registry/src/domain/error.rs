//! Commands that are wrong in themselves. A gate refusing a promotion is not here: that is a
//! legitimate outcome, recorded as a `GateFailed` event.

use edgeops_artifacts::VerifyError;

use crate::domain::names::ModelVersionKey;
use edgeops_registry_api::Stage;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{key} is already registered")]
    AlreadyRegistered { key: ModelVersionKey },
    #[error("this model version is not registered")]
    NotRegistered,
    #[error("invalid registration: {reason}")]
    InvalidRegistration { reason: String },
    #[error("metrics were measured on holdout {given}, but this version's holdout is {registered}")]
    HoldoutMismatch { registered: String, given: String },
    #[error("invalid metrics: {reason}")]
    InvalidMetrics { reason: String },
    #[error("metrics are already attached; they are part of the signed record and cannot change")]
    MetricsAlreadyAttached,
    #[error("{action} needs holdout metrics; none are attached yet")]
    NoMetrics { action: String },
    #[error("cannot promote to {to}: the manifest is not signed yet")]
    NotSigned { to: Stage },
    #[error("the signed manifest does not describe this version: its {field} differs")]
    ManifestMismatch { field: &'static str },
    #[error("the manifest's key id {claimed} is not the signer's key {signer}")]
    SignerMismatch { claimed: String, signer: String },
    #[error("{0}")]
    BadSignature(VerifyError),
    #[error("the version is already in {stage}")]
    AlreadyInStage { stage: Stage },
    #[error("cannot move from {from} to {to}; allowed: dev→staging, staging→prod, any→archived")]
    IllegalTransition { from: Stage, to: Stage },
    #[error("archiving is not a promotion: use the archive command, with a reason")]
    PromoteToArchived,
    #[error("an archived version cannot be changed")]
    Archived,
    #[error("archiving needs a reason")]
    MissingReason,
}
