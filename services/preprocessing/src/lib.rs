//! preprocessing: consumes the readings that reached the hub, keeps its own copy of the samples,
//! and maintains feature rows per device (shared `edgeops-features` definitions), incrementally
//! and idempotently: recomputing over the same readings gives identical rows.

pub mod config;
pub mod handlers;
pub mod startup;
pub mod store;

pub use config::PreprocessingConfig;
pub use startup::run;
