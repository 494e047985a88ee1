//! Training's pure core: labelled datasets cut from feature rows by time, the persistence and
//! seasonal-naive baselines, candidate models (ridge regression and gradient-boosted trees), their
//! scores, and their ONNX graphs. No I/O: the training service feeds rows in and stores what
//! comes out, so a run can be repeated bit for bit from its dataset fingerprint.

pub mod dataset;
pub mod export;
pub mod gbt;
pub mod metrics;
pub mod model;
pub mod ridge;
pub mod train;

/// Least share of persistence's holdout RMSE a model must remove to count as beating it (the
/// promotion gate's bar). A margin, not zero: on data nothing can forecast (a random walk) a
/// candidate can come out a hair ahead of persistence by chance.
pub const MIN_SKILL: f64 = 0.01;

pub use dataset::{Dataset, DatasetError, DeviceRows, Split};
pub use metrics::Scores;
pub use model::TrainedModel;
pub use train::{CandidateReport, TrainConfig, TrainError, TrainReport, train};
