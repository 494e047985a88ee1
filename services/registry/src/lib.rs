//! registry: the event-sourced model registry. It registers the model of every completed
//! training run as a numbered, signed version (allocation per run, so redelivery never makes
//! a second version), moves versions through dev -> staging -> prod behind promotion gates on
//! operators' commands, and answers queries from a Postgres projection it can rebuild from
//! the stream at any time.
//!
//! | module         | holds                                                               |
//! |----------------|---------------------------------------------------------------------|
//! | [`domain`]     | the pure aggregates (model version, version allocation) and rules   |
//! | [`projection`] | the Postgres read model: apply, rebuild, queries                    |
//! | [`handlers`]   | training completions, commands, micro service                       |
//! | [`api`]        | request/reply types and error codes; [`client`] calls them          |

pub mod api;
pub mod client;
pub mod config;
pub mod domain;
pub mod handlers;
pub mod keys;
pub mod projection;
pub mod startup;

pub use config::RegistryConfig;
pub use startup::{rebuild_projection, run, run_with_key};

/// Name of the NATS micro service (`edgeops.svc.registry.*`) and the events' service actor.
pub const SERVICE_NAME: &str = "registry";

#[cfg(test)]
mod tests {
    use edgeops_bus::topology::REGISTRY_MODEL_VERSION_KIND;

    #[test]
    fn the_projection_consumer_filters_this_aggregate_kind() {
        assert_eq!(REGISTRY_MODEL_VERSION_KIND, crate::domain::AGGREGATE_KIND);
    }
}
