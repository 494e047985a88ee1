//! The `edgeops` operator command as a library, so tests and the demo share its pieces.

pub mod nats_config;
