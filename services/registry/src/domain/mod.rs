//! The registry's pure rules. A model version is an aggregate: commands are decided against
//! its state ([`decide`]) into events, and events are folded into state ([`apply`]). Nothing
//! here does I/O or reads the clock; time and the current production version come in with
//! the command, so every rule is testable as given/when/then.
//!
//! The vocabulary callers share (stages, gate names, holdout metrics, model names and scopes)
//! is defined in `edgeops_registry_api`; the domain imports it from there, and so do callers.
//!
//! | module      | holds                                                        |
//! |-------------|--------------------------------------------------------------|
//! | [`names`]   | the aggregate key (model names and scopes: the API crate)    |
//! | [`gates`]   | the promotion gates, as pure functions                       |
//! | [`events`]  | event payloads, the event enum, envelope helpers             |
//! | [`commands`]| what callers ask for                                         |
//! | [`state`]   | the folded state and [`apply`]                               |
//! | [`decide`]  | the decision function                                        |
//! | [`model`]   | a view over all versions of a model: current prod per scope  |
//! | [`allocation`] | the `model` aggregate: version numbers, one per training run |
//! | [`aggregates`] | both aggregates as the event-sourcing kit runs them, upcasters |
//! | [`registration`] | a completed training run as a registration, step by step |

pub mod aggregates;
pub mod allocation;
pub mod commands;
pub mod decide;
pub mod error;
pub mod events;
pub mod gates;
pub mod model;
pub mod names;
pub mod registration;
pub mod state;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_support;

pub use aggregates::{VersionsExhausted, upcasters};
pub use allocation::{
    Allocation, Allocations, MODEL_AGGREGATE, VersionAllocated, register_allocation_upcasters,
};
pub use commands::{Command, ProdSummary};
pub use decide::decide;
pub use error::DomainError;
pub use events::{
    AGGREGATE_KIND, EventDecodeError, GateFailed, ManifestSigned, MetricsAttached,
    ModelVersionEvent, Registered, StageChanged, register_upcasters,
};
pub use gates::GateFailure;
pub use model::{current_prod, prod_summary_for, superseded_prod};
pub use names::ModelVersionKey;
pub use registration::{Proposal, Step, next_step, precheck, proposal};
pub use state::{ModelVersion, ModelVersionState, apply};
