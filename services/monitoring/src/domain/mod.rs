//! Monitoring's pure rules: what a summary must be, how a window is judged, and how
//! judgements become incidents.

pub mod aggregate;
pub mod concept;
pub mod incident;
pub mod judge;
pub mod scope;
pub mod summary;

pub use incident::{IncidentEvent, IncidentState, Observation, RetrainHint, Verdict};
pub use scope::Scope;
