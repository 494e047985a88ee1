//! The test kit: what the demo, the bench and the integration tests share, so each has one copy.
//!
//! | module          | what it gives                                                              |
//! |-----------------|----------------------------------------------------------------------------|
//! | [`simulator`]   | simulated rooms and sensors (with faults), deterministic for a seed        |
//! | [`replay`]      | the shipped real data sets as readings, and a dry run of their uplink bytes |
//! | [`nats_config`] | the hub and leaf nats-server configs rendered from `infra/nats/*.tmpl`     |
//! | [`leaf_link`]   | the bytes a site's leaf connection carried, from its `/leafz`              |
//! | [`stack`]       | the one launcher of a local stack: hub, leaves and Postgres, as processes   |
//! |                 | ([`stack::LocalStack`]) or containers (`ContainerStack`, feature `containers`) |

pub mod leaf_link;
pub mod nats_config;
pub mod replay;
pub mod simulator;
pub mod stack;
