//! The `prod` query training asks before it judges a new model against the one in production.

use edgeops_contracts::training::{Scope, StoredArtifact};
use serde::{Deserialize, Serialize};

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
    pub artifact: StoredArtifact,
}

/// Answer to [`ProdQuery`]: `prod` is `None` while no version of the model is in production.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProdReply {
    pub prod: Option<ProdVersion>,
}
