use edgeops_service_host::{DatabaseArgs, HubArgs};
use std::time::Duration;

use crate::domain::targets::live::DEFAULT_LIVE_WITHIN;
use edgeops_deployment_api::selector::parse_within;

/// Deployment's settings; every flag also reads an `EDGEOPS_*` environment variable.
#[derive(Debug, Clone, clap::Args)]
pub struct DeploymentConfig {
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// How often running rollouts are judged by their gates, in milliseconds.
    #[arg(long, env = "EDGEOPS_DEPLOYMENT_TICK_MS", default_value_t = 1_000)]
    pub tick_ms: u64,
    /// How often every running rollout's desired state is checked against the bucket and
    /// repaired, in seconds (a failed write is retried on the next tick regardless).
    #[arg(long, env = "EDGEOPS_DEPLOYMENT_RECONCILE_SECS", default_value_t = 30)]
    pub reconcile_secs: u64,
    /// Forecasts older than this are pruned from the gates' store, in hours.
    #[arg(
        long,
        env = "EDGEOPS_DEPLOYMENT_FORECAST_RETENTION_HOURS",
        default_value_t = 48
    )]
    pub forecast_retention_hours: u64,
    /// Desired-state writes in flight at once when a wave switches.
    #[arg(
        long,
        env = "EDGEOPS_DEPLOYMENT_WRITE_CONCURRENCY",
        default_value_t = 64
    )]
    pub write_concurrency: usize,
    /// A rollout targets only devices with a reading arrived at the hub within this window
    /// (`15m`, `90s`, `2h`); a request's `--live-within` overrides it. Arrival, not sensor time:
    /// silent devices make canaries that never produce forecasts.
    #[arg(
        long,
        env = "EDGEOPS_DEPLOYMENT_LIVE_WITHIN",
        default_value = "15m",
        value_parser = parse_within
    )]
    pub live_within: Duration,
}

impl DeploymentConfig {
    /// Settings for tests and the demo: everything local, gates judged every 100 ms.
    pub fn local(nats_url: impl Into<String>, database_url: impl Into<String>) -> Self {
        Self {
            hub: HubArgs::new(nats_url),
            database: DatabaseArgs::new(database_url),
            tick_ms: 100,
            reconcile_secs: 30,
            forecast_retention_hours: 48,
            write_concurrency: 64,
            live_within: DEFAULT_LIVE_WITHIN,
        }
    }

    pub fn tick(&self) -> Duration {
        Duration::from_millis(self.tick_ms.max(10))
    }

    pub fn reconcile_every(&self) -> Duration {
        Duration::from_secs(self.reconcile_secs.max(1))
    }
}
