//! ingest: consumes the readings that reached the hub, validates each one (schema, units,
//! ranges, timestamps, NaN, known site), dead-letters the bad ones with a reason, and writes
//! the good ones to Postgres in batches, idempotently.

pub mod config;
pub mod domain;
pub mod handlers;
pub mod service;
pub mod startup;
pub mod store;

pub use config::IngestConfig;
/// The writer ingest's consumer uses, exposed as the bench's baseline (`raw_insert`: the same
/// batched UNNEST inserts without NATS) and for tests that write rows directly.
pub use domain::batch::Row;
pub use startup::run;
pub use store::{Written, write_readings};
