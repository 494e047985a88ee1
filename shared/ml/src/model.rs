//! The trained candidates behind one interface: a forecast is the target's current value plus
//! the change the model predicts.

use serde::{Deserialize, Serialize};

use crate::gbt::Gbt;
use crate::ridge::Ridge;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TrainedModel {
    Ridge { target_index: usize, model: Ridge },
    Gbt { target_index: usize, model: Gbt },
}

impl TrainedModel {
    /// The candidate's name in reports and in the artifact's metadata.
    pub fn name(&self) -> &'static str {
        match self {
            TrainedModel::Ridge { .. } => "ridge",
            TrainedModel::Gbt { .. } => "gradient_boosted_trees",
        }
    }

    pub fn predict(&self, row: &[f64]) -> f64 {
        match self {
            TrainedModel::Ridge {
                target_index,
                model,
            } => row[*target_index] + model.predict_change(row),
            TrainedModel::Gbt {
                target_index,
                model,
            } => row[*target_index] + model.predict_change(row),
        }
    }
}
