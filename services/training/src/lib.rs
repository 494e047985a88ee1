//! training: turns feature rows into forecast models. A run is requested (by command, schedule,
//! data volume or drift), builds a fingerprinted dataset, trains and scores candidates against
//! persistence (and the production model), exports the winner to ONNX, proves the export in ONNX
//! Runtime, stores it in the model object store, and publishes the result for the registry.

pub mod config;
pub mod domain;
pub mod handlers;
pub mod objects;
pub mod pipeline;
pub mod startup;
pub mod store;

pub use config::TrainingConfig;
/// Reads a stored model back from the model object store (the demo and the tests check what
/// training stored).
pub use objects::read_object;
pub use startup::run;

/// Name of the NATS micro service and of the durable consumer that executes runs.
pub const SERVICE_NAME: &str = "training";

/// What built this service, recorded in every model's lineage.
pub fn code_version() -> String {
    format!(
        "edgeops-training {} ({})",
        env!("CARGO_PKG_VERSION"),
        option_env!("EDGEOPS_GIT_SHA").unwrap_or("unknown commit")
    )
}
