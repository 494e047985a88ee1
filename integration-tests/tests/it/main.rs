//! One test binary for everything that needs real NATS and Postgres.

mod dead_letters;
mod edge_to_postgres;
mod ingest_process;
mod provisioning;
mod support;
