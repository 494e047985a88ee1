//! The promotion gates by name: a refusal names its gate, and callers read it back.
//! The gates' rules are the registry's own (its `domain::gates`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    /// Candidate RMSE at least [`MIN_SKILL_VS_PERSISTENCE`](edgeops_contracts::training::MIN_SKILL_VS_PERSISTENCE) below the persistence forecast's on
    /// the holdout.
    BeatsPersistence,
    /// Candidate RMSE no worse than the current prod version's on the same holdout.
    NotWorseThanProd,
}
