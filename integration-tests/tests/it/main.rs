//! One test binary for everything that needs real NATS and Postgres.

// Test code: a failed step fails the test, with its reason.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod crashes;
mod dead_letters;
mod deployment;
mod edge_inference;
mod edge_to_postgres;
mod ingest_process;
mod ingest_stats;
mod monitoring;
mod outage;
mod preprocessing;
mod provisioning;
mod reduction;
mod registry;
mod set_aside;
mod skew;
mod store;
mod summaries;
mod support;
mod telemetry_export;
mod training;
mod uplink_bytes;
