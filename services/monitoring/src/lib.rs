//! monitoring: watches every model in the field after its rollout. The gateways summarise
//! each device's hour of target time from every raw reading and forecast they made (the hub
//! holds only the ~5 % the uplink carries) and send the summaries store-and-forward; this
//! service stores each window once, judges live error vs persistence, device silence (on the
//! site's own clock) and site links, and records incidents as events
//! (`edgeops.events.monitor.<scope>.<kind>`): one event opens an incident, one `recovered`
//! closes it.
//!
//! | module         | holds                                                               |
//! |----------------|---------------------------------------------------------------------|
//! | [`domain`]     | summary checks, judgements with hysteresis, the incident aggregate   |
//! | [`store`]      | the windows and the sums judgements read                            |
//! | [`handlers`]   | the summaries consumer, the site-link watch, projection, endpoints  |
//!
//! Its request/reply types and typed client are in `edgeops_monitoring_api`.

pub mod config;
pub mod domain;
pub mod handlers;
mod metrics;
pub mod startup;
mod store;

pub use config::MonitoringConfig;
pub use edgeops_monitoring_api::SERVICE_NAME;
pub use startup::{rebuild_projection, run};
