//! The integration-test harness: real NATS (a hub and leaf servers linked to it) and real
//! Postgres, each test in its own containers on its own Docker network, with its own database.
//! The stack is the test kit's container backend (`edgeops_testkit::stack::ContainerStack`,
//! here `TestStack`); this crate adds what starts services in-process ([`services`]).
//! Images are built locally by `infra/scripts/bootstrap.sh` (no registry is reachable).

// A test harness: a failed step must fail the test at once, with the reason in the message.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

pub mod otlp;
pub mod services;
pub mod wait;

/// The test kit's container stack, under the name the tests know it by.
pub use edgeops_testkit::stack::{ContainerStack as TestStack, Leaf};
pub use wait::{check, wait_until};
