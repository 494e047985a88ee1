//! Holdout scores. Every number that decides a promotion is measured on one holdout set,
//! named by its fingerprint, so candidate, baselines and incumbent are compared like for like.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The data a version is judged on: fixed at registration, named by a content fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holdout {
    pub fingerprint: String,
    pub rows: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CandidateScores {
    pub rmse: f64,
    pub mae: f64,
    /// `None` when undefined (persistence was perfect in training, a zero scale): JSON has
    /// no infinity, and an absent number is honest where a made-up one is not.
    pub mase: Option<f64>,
}

/// A reference forecast's scores on the same holdout (persistence, seasonal naive).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BaselineScores {
    pub rmse: f64,
    pub mae: f64,
}

/// The production version at evaluation time, scored on this version's holdout.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IncumbentScore {
    pub version: u32,
    pub rmse: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldoutMetrics {
    pub candidate: CandidateScores,
    pub persistence: BaselineScores,
    pub seasonal_naive: Option<BaselineScores>,
    pub incumbent: Option<IncumbentScore>,
}

/// A score must be a finite, non-negative number: errors are never negative, and NaN or
/// infinity would make every comparison a gate depends on meaningless.
pub fn check_score(name: &str, value: f64) -> Result<(), String> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(format!(
            "{name} is {value}, not a finite non-negative number"
        ))
    }
}

impl HoldoutMetrics {
    /// Why these metrics cannot be attached to version `own_version`, if they cannot.
    pub fn validate(&self, own_version: u32) -> Result<(), String> {
        check_score("candidate rmse", self.candidate.rmse)?;
        check_score("candidate mae", self.candidate.mae)?;
        if let Some(mase) = self.candidate.mase {
            check_score("candidate mase", mase)?;
        }
        check_score("persistence rmse", self.persistence.rmse)?;
        check_score("persistence mae", self.persistence.mae)?;
        if let Some(seasonal) = &self.seasonal_naive {
            check_score("seasonal-naive rmse", seasonal.rmse)?;
            check_score("seasonal-naive mae", seasonal.mae)?;
        }
        if let Some(incumbent) = &self.incumbent {
            check_score("incumbent rmse", incumbent.rmse)?;
            if incumbent.version == own_version {
                return Err(format!(
                    "the incumbent is v{own_version}, this version itself"
                ));
            }
        }
        Ok(())
    }

    /// The flat form a signed manifest carries (`rmse`, `persistence_rmse`, ...).
    pub fn manifest_metrics(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::from([
            ("rmse".to_owned(), self.candidate.rmse),
            ("mae".to_owned(), self.candidate.mae),
            ("persistence_rmse".to_owned(), self.persistence.rmse),
            ("persistence_mae".to_owned(), self.persistence.mae),
        ]);
        if let Some(mase) = self.candidate.mase {
            out.insert("mase".to_owned(), mase);
        }
        if let Some(seasonal) = &self.seasonal_naive {
            out.insert("seasonal_naive_rmse".to_owned(), seasonal.rmse);
            out.insert("seasonal_naive_mae".to_owned(), seasonal.mae);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(rmse: f64, persistence_rmse: f64) -> HoldoutMetrics {
        HoldoutMetrics {
            candidate: CandidateScores {
                rmse,
                mae: rmse * 0.8,
                mase: Some(0.9),
            },
            persistence: BaselineScores {
                rmse: persistence_rmse,
                mae: persistence_rmse * 0.8,
            },
            seasonal_naive: None,
            incumbent: None,
        }
    }

    #[test]
    fn finite_scores_pass_and_each_bad_one_is_named() {
        assert_eq!(metrics(40.0, 50.0).validate(3), Ok(()));
        let mut m = metrics(40.0, 50.0);
        m.persistence.rmse = f64::NAN;
        assert!(m.validate(3).unwrap_err().contains("persistence rmse"));
        let mut m = metrics(40.0, 50.0);
        m.candidate.mae = -1.0;
        assert!(m.validate(3).unwrap_err().contains("candidate mae"));
        let mut m = metrics(40.0, 50.0);
        m.incumbent = Some(IncumbentScore {
            version: 3,
            rmse: 1.0,
        });
        assert!(m.validate(3).unwrap_err().contains("itself"));
    }

    #[test]
    fn the_manifest_form_carries_candidate_and_baselines() {
        let flat = metrics(40.0, 50.0).manifest_metrics();
        assert_eq!(flat.get("rmse"), Some(&40.0));
        assert_eq!(flat.get("persistence_rmse"), Some(&50.0));
        assert!(flat.values().all(|v| v.is_finite()));
    }
}
