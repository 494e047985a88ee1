//! How a rollout is staged: a canary share, then cumulative waves up to everyone.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Strategy {
    /// Share of the targets in the canary wave (at least one device).
    pub canary_share: f64,
    /// Cumulative shares after the canary, increasing, the last one 1.0 (e.g. `[0.5, 1.0]`).
    pub waves: Vec<f64>,
}

impl Default for Strategy {
    fn default() -> Self {
        Self {
            canary_share: 0.1,
            waves: vec![0.5, 1.0],
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("the selector matches no device")]
    NoTargets,
    #[error("canary share must be in (0, 1], got {0}")]
    CanaryShare(f64),
    #[error("wave shares must increase and end at 1.0, got {0:?}")]
    Waves(Vec<f64>),
}

impl Strategy {
    pub fn validate(&self) -> Result<(), PlanError> {
        if !(self.canary_share > 0.0 && self.canary_share <= 1.0) {
            return Err(PlanError::CanaryShare(self.canary_share));
        }
        let increasing = self.waves.windows(2).all(|pair| pair[0] < pair[1])
            && self
                .waves
                .first()
                .is_none_or(|first| *first > self.canary_share);
        if !increasing
            || self
                .waves
                .last()
                .is_some_and(|last| (*last - 1.0).abs() > 1e-9)
        {
            return Err(PlanError::Waves(self.waves.clone()));
        }
        Ok(())
    }

    /// Devices covered after each wave (wave 0 is the canary), cumulative; the last is `n`.
    pub fn cumulative_counts(&self, n: usize) -> Vec<usize> {
        let count = |share: f64| ((share * n as f64).ceil() as usize).clamp(1, n);
        let mut counts = vec![count(self.canary_share)];
        for share in &self.waves {
            let c = count(*share);
            if counts.last().is_some_and(|last| c > *last) {
                counts.push(c);
            }
        }
        if counts.last().is_some_and(|last| *last < n) {
            counts.push(n);
        }
        counts
    }
}
