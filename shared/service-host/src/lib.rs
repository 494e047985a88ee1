//! The host every hub service runs in. A service says what is particular to it (its settings,
//! consumers, endpoints and background tasks); the host does the rest the same way for all:
//!
//! | step                  | where                                                            |
//! |-----------------------|------------------------------------------------------------------|
//! | settings              | [`HubArgs`] and [`DatabaseArgs`], flattened into a service's config |
//! | connect, provision    | [`Host::builder`] … [`HostBuilder::start`]                       |
//! | migrate Postgres      | [`HostBuilder::start`] (the project's migrations, `edgeops_store`) |
//! | consumers, endpoints  | [`Host::consume`], [`Host::micro`], [`Host::spawn`], [`Host::spawn_helper`] |
//! | drain on SIGTERM/INT  | [`Host::run`]: stop pulling, settle in-flight work, flush, close |
//! | telemetry, `main`     | [`main`]: parse, install telemetry, run until a signal, flush    |
//!
//! A crate of its own rather than part of `edgeops-bus`: the host ties NATS to Postgres and clap,
//! and the edge gateway, which uses the bus, has neither.

mod args;
mod host;
mod process;

pub use args::{DEFAULT_DATABASE_URL, DEFAULT_NATS_URL, DatabaseArgs, HubArgs};
pub use host::{Host, HostBuilder, HostError, TaskOutcome};
pub use process::{Command, Shutdown, main, rebuild_projection, rebuilt};
