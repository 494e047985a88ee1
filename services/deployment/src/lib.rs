//! deployment: rolls a model version out to the devices a selector names, canary first, then in
//! waves, each wave held to health gates (applied/failed acknowledgements and the live forecast
//! error of the new version against the previous one); a failed gate rolls the wave back.
//!
//! | module          | holds                                                                |
//! |-----------------|----------------------------------------------------------------------|
//! | [`domain`]      | the pure rules: plan, gates, the rollout aggregate, targets, evidence |
//! | [`rollouts`]    | the rollout store (kept in memory while unfinished), history, status  |
//! | [`effects`]     | desired state per device in the KV bucket the gateways watch          |
//! | [`fleet`]       | registered sites and the devices seen at them                         |
//! | [`live_error`]  | forecasts stored and joined with actual readings                      |
//! | [`projection`]  | the Postgres list of rollouts: apply, rebuild, queries                |
//! | [`handlers`]    | micro service, device reports, forecasts, projection, evaluator       |
//!
//! Its request/reply types, error codes and typed client are in `edgeops_deployment_api`;
//! it calls the registry through `edgeops_registry_api`, never the registry's implementation.

pub mod config;
pub mod domain;
pub mod effects;
pub mod fleet;
pub mod handlers;
pub mod live_error;
pub mod projection;
pub mod rollouts;
pub mod startup;
pub mod view;

pub use config::DeploymentConfig;
pub use startup::{rebuild_projection, run};

pub use edgeops_deployment_api::SERVICE_NAME;
