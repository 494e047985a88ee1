//! Training's pure core: labelled datasets cut from feature rows by time, the persistence and
//! seasonal-naive baselines, candidate models (ridge regression and gradient-boosted trees), their
//! scores, their ONNX graphs, and each input's distribution in the training rows (the reference
//! monitoring compares live inputs against). No I/O: the training service feeds rows in and
//! stores what comes out, so a run can be repeated bit for bit from its dataset fingerprint.

pub mod dataset;
pub mod export;
pub mod gbt;
pub mod metrics;
pub mod model;
pub mod reference;
pub mod ridge;
pub mod train;

/// The registry's bar for "beats persistence" (see the constant's own note).
pub use edgeops_contracts::training::MIN_SKILL_VS_PERSISTENCE as MIN_SKILL;

pub use dataset::{Dataset, DatasetError, DeviceRows, Split};
pub use model::TrainedModel;
pub use reference::training_reference;
pub use train::{CandidateReport, TrainConfig, TrainError, TrainReport, train};
