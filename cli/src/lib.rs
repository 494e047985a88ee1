//! The `edgeops` operator command as a library, so the binary and the demo share its pieces.
//! Simulated sensors, data-set replay, nats-server configs and the local stack are in the test
//! kit (`edgeops-testkit`).

pub mod bench;
pub mod commands;
pub mod demo;
