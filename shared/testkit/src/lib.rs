//! The test kit: what the demo, the bench and the integration tests share, so each has one copy.
//!
//! | module          | what it gives                                                              |
//! |-----------------|----------------------------------------------------------------------------|
//! | [`simulator`]   | simulated rooms and sensors (with faults), deterministic for a seed        |
//! | [`replay`]      | the shipped real data sets as readings, and a dry run of their uplink bytes |
//! | [`nats_config`] | the hub and leaf nats-server configs rendered from `infra/nats/*.tmpl`     |
//! | [`leaf_link`]   | the bytes a site's leaf connection carried, from its `/leafz`              |
//! | [`local_stack`] | a hub and a leaf nats-server as processes, and Postgres in a container     |
//!
//! The container-based stack of the integration tests (hub, leaves, network cuts) lives in
//! `integration-tests/src/stack.rs` and renders its configs with [`nats_config`].

pub mod leaf_link;
pub mod local_stack;
pub mod nats_config;
pub mod replay;
pub mod simulator;
