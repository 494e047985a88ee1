//! What callers ask of a model version. Commands carry everything a decision needs that is
//! not in the aggregate's own events — the time, the actor, the other versions' prod status —
//! so that [`decide`](crate::domain::decide) stays pure.

use chrono::{DateTime, Utc};
use edgeops_artifacts::{PublicKey, SignedManifest};
use edgeops_contracts::Actor;

use crate::domain::events::Registered;
use edgeops_registry_api::Stage;
use edgeops_registry_api::metrics::HoldoutMetrics;

/// The version currently in prod for the candidate's scope, as the service knows it from the
/// other aggregates ([`prod_summary_for`](crate::domain::prod_summary_for) builds it).
#[derive(Debug, Clone, PartialEq)]
pub struct ProdSummary {
    pub version: u32,
    /// The holdout the prod version itself was evaluated on.
    pub holdout_fingerprint: String,
    /// The prod version's RMSE on the *candidate's* holdout, when someone measured it.
    pub rmse_on_this_holdout: Option<f64>,
}

#[derive(Debug, Clone)]
pub enum Command {
    Register(Registered),
    /// `holdout_fingerprint` must be the registered holdout's: metrics from another
    /// evaluation are refused.
    AttachMetrics {
        holdout_fingerprint: String,
        metrics: HoldoutMetrics,
    },
    /// The service signs `ModelVersion::manifest_to_sign` with its key (`edgeops_artifacts::sign`)
    /// and sends the result with the key's public half; decide checks both.
    SignManifest {
        signed: Box<SignedManifest>,
        signer: PublicKey,
    },
    /// Only to `staging` or `prod`; `current_prod` matters only for `prod`.
    Promote {
        to: Stage,
        current_prod: Option<ProdSummary>,
        actor: Actor,
        at: DateTime<Utc>,
    },
    Archive {
        actor: Actor,
        reason: String,
        at: DateTime<Utc>,
    },
}
