//! The edge gateway: runs beside a site's leaf nats-server (JetStream domain `edge-<site>`).
//! Sensors publish raw readings locally; the local stream keeps them under the site's
//! retention; the forwarder sends them to the hub over the leaf link, in order, resuming
//! from a durable cursor after any outage or restart.
//!
//! The reduction policy decides what is forwarded; in-process inference forecasts per device
//! with the verified model the hub's desired state names (see [`inference`]); per device and
//! hour the gateway summarizes its live error and inputs for monitoring (see [`monitor`]).

pub mod backoff;
pub mod config;
pub mod forward;
pub mod inference;
pub mod monitor;
pub mod reduction;
pub mod startup;

pub use config::GatewayConfig;
pub use startup::run;
