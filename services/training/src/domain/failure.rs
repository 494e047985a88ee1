//! Why a run failed, as a short code for dashboards and a sentence for operators.

use edgeops_ml::{DatasetError, TrainError};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {reason}")]
pub struct RunFailure {
    pub code: &'static str,
    pub reason: String,
}

impl RunFailure {
    pub fn new(code: &'static str, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }
}

impl From<DatasetError> for RunFailure {
    fn from(err: DatasetError) -> Self {
        let code = match &err {
            DatasetError::NoRows => "no_rows",
            DatasetError::WrongWidth { .. } => "wrong_row_width",
            DatasetError::FeatureAlwaysMissing(_) => "feature_always_missing",
            DatasetError::TooFewRows { .. } => "too_few_rows",
            DatasetError::TargetNotAFeature(_) => "bad_spec",
        };
        RunFailure::new(code, err.to_string())
    }
}

impl From<TrainError> for RunFailure {
    fn from(err: TrainError) -> Self {
        match err {
            TrainError::Dataset(err) => err.into(),
            other => RunFailure::new("fit_failed", other.to_string()),
        }
    }
}
