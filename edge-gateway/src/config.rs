use std::time::Duration;

use edgeops_contracts::SiteId;

use crate::reduction::ReductionPolicy;

/// The gateway's settings; every flag also reads an `EDGEOPS_*` environment variable.
#[derive(Debug, Clone, clap::Args)]
pub struct GatewayConfig {
    /// This site's id (also the leaf's JetStream domain suffix: `edge-<site>`).
    #[arg(long, env = "EDGEOPS_SITE", value_parser = parse_site)]
    pub site: SiteId,
    /// NATS URL of the site's leaf server.
    #[arg(
        long,
        env = "EDGEOPS_LEAF_URL",
        default_value = "nats://127.0.0.1:4223"
    )]
    pub leaf_url: String,
    /// Readings forwarded per batch (each batch is acknowledged by the hub before the next).
    #[arg(long, env = "EDGEOPS_FORWARD_BATCH", default_value_t = 500)]
    pub batch_size: usize,
    /// Longest wait to fill a forward batch, in milliseconds.
    #[arg(long, env = "EDGEOPS_FORWARD_LINGER_MS", default_value_t = 20)]
    pub batch_linger_ms: u64,
    /// How long raw readings are kept at the site, in hours.
    #[arg(long, env = "EDGEOPS_RAW_RETENTION_HOURS", default_value_t = 168)]
    pub raw_retention_hours: u64,
    /// Most bytes of raw readings kept at the site (oldest are dropped first).
    #[arg(long, env = "EDGEOPS_RAW_MAX_BYTES", default_value_t = 2 * 1024 * 1024 * 1024)]
    pub raw_max_bytes: i64,
    /// Reduction policy: `default` (indoor air: dead-bands, alerts, hourly aggregates, 1 %
    /// samples), `forward-all` (every reading unchanged), or the path of a JSON policy file.
    #[arg(long, env = "EDGEOPS_REDUCTION_POLICY", default_value = "default")]
    pub policy: String,
    /// Timeout for the hub's acknowledgement of a forwarded reading, in milliseconds.
    #[arg(long, env = "EDGEOPS_HUB_ACK_TIMEOUT_MS", default_value_t = 5000)]
    pub hub_ack_timeout_ms: u64,
}

fn parse_site(value: &str) -> Result<SiteId, String> {
    SiteId::parse(value).map_err(|e| e.to_string())
}

impl GatewayConfig {
    pub fn local(site: SiteId, leaf_url: impl Into<String>) -> Self {
        Self {
            site,
            leaf_url: leaf_url.into(),
            batch_size: 500,
            batch_linger_ms: 20,
            raw_retention_hours: 168,
            raw_max_bytes: 2 * 1024 * 1024 * 1024,
            policy: "forward-all".into(),
            hub_ack_timeout_ms: 5000,
        }
    }

    /// The reduction policy this config names.
    pub fn reduction_policy(&self) -> anyhow::Result<ReductionPolicy> {
        ReductionPolicy::load(&self.policy)
    }

    pub fn batch_linger(&self) -> Duration {
        Duration::from_millis(self.batch_linger_ms)
    }

    pub fn raw_retention(&self) -> Duration {
        Duration::from_secs(self.raw_retention_hours * 3600)
    }

    pub fn hub_ack_timeout(&self) -> Duration {
        Duration::from_millis(self.hub_ack_timeout_ms)
    }
}
