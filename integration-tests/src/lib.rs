//! The integration-test harness: real NATS (a hub and leaf servers linked to it) and real
//! Postgres, each test in its own containers on its own Docker network, with its own database.
//! Images are built locally by `infra/scripts/bootstrap.sh` (no registry is reachable).

// A test harness: a failed step must fail the test at once, with the reason in the message.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

pub mod otlp;
pub mod services;
pub mod stack;
pub mod uplink;
pub mod wait;

pub use stack::{Leaf, TestStack};
pub use wait::{check, wait_until};
