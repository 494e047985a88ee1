//! registry: the event-sourced model registry. It registers the model of every completed
//! training run as a numbered, signed version (allocation per run, so redelivery never makes
//! a second version), moves versions through dev -> staging -> prod behind promotion gates on
//! operators' commands, and answers queries from a Postgres projection it can rebuild from
//! the stream at any time.
//!
//! | module         | holds                                                               |
//! |----------------|---------------------------------------------------------------------|
//! | [`domain`]     | the pure aggregates (model version, version allocation) and rules   |
//! | [`projection`] | the Postgres read model: apply, rebuild, queries                    |
//! | [`handlers`]   | training completions, commands, micro service                       |
//!
//! Its request/reply types, error codes, names and typed client are in `edgeops_registry_api`:
//! other services depend on that crate, never on this one.

pub mod config;
pub mod domain;
pub mod handlers;
pub mod keys;
pub mod projection;
pub mod startup;

pub use config::RegistryConfig;
/// The model-version event store and a decide-and-append on a given (possibly stale) state:
/// public so that tests can race two commands.
pub use handlers::commands::{decide_and_append, versions};
pub use startup::{rebuild_projection, run, run_with_key};

pub use edgeops_registry_api::SERVICE_NAME;
