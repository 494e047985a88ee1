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
//! | [`api`]         | request/reply types and error codes; [`client`] calls them            |

pub mod api;
pub mod client;
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

/// Name of the NATS micro service (`edgeops.svc.deployment.*`) and the events' service actor.
pub const SERVICE_NAME: &str = "deployment";

#[cfg(test)]
mod tests {
    use edgeops_bus::topology::DEPLOYMENT_ROLLOUT_KIND;

    #[test]
    fn the_projection_consumer_filters_this_aggregate_kind() {
        assert_eq!(DEPLOYMENT_ROLLOUT_KIND, crate::domain::AGGREGATE_KIND);
    }
}
