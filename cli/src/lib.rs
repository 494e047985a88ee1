//! The `edgeops` operator command as a library, so tests and the demo share its pieces.

pub mod bench;
pub mod commands;
pub mod demo;
pub mod leaf_link;
pub mod nats_config;
pub mod replay;
pub mod simulator;
