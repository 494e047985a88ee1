//! The registry against real NATS and Postgres: completed training runs become signed versions
//! that verify (and stop verifying when anything is altered), the gates hold, concurrent
//! commands conflict, duplicates register once, and the projection rebuilds to the same rows.

pub(crate) mod fixtures;
mod projection;
mod promotion;
mod registration;
