use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use edgeops_artifacts::TrustedKeys;
use edgeops_contracts::SiteId;
use edgeops_features::FeatureSpec;

use crate::inference::InferenceSettings;
use crate::reduction::{PackLimits, ReductionPolicy};

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
    #[arg(long, env = "EDGEOPS_FORWARD_BATCH", default_value_t = DEFAULT_FORWARD_BATCH)]
    pub batch_size: usize,
    /// Longest wait to fill a forward batch, in milliseconds. On a metered uplink, raise it:
    /// readings then wait up to this long to travel packed per device and compressed.
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
    /// Forecast with the devices' desired models (persistence until one is loaded).
    #[arg(long, env = "EDGEOPS_INFERENCE", default_value_t = true, action = clap::ArgAction::Set)]
    pub inference: bool,
    /// Trusted public keys for model manifests: a `.pub` file (one key per line) or a directory
    /// of them. Added to `--trusted-key`.
    #[arg(long, env = "EDGEOPS_TRUSTED_KEYS_PATH")]
    pub trusted_keys: Option<PathBuf>,
    /// Trusted public keys, hex or base64, comma-separated (`EDGEOPS_TRUSTED_KEYS`).
    #[arg(
        long = "trusted-key",
        env = "EDGEOPS_TRUSTED_KEYS",
        value_delimiter = ','
    )]
    pub trusted_key: Vec<String>,
    /// Where verified models are cached for restarts without uplink
    /// (default `.edgeops-cache/<site>` in the working directory).
    #[arg(long, env = "EDGEOPS_MODEL_CACHE_DIR")]
    pub model_cache_dir: Option<PathBuf>,
    /// Feature spec whose target is forecast by persistence before a device has a model.
    #[arg(long, env = "EDGEOPS_FEATURE_SPEC", default_value = "indoor_air")]
    pub feature_spec: String,
    /// Horizon (bins) of persistence forecasts before a device has a model.
    #[arg(long, env = "EDGEOPS_PERSISTENCE_HORIZON_BINS", default_value_t = 12)]
    pub persistence_horizon_bins: u32,
    /// Also send forecasts to the hub (best effort: none are resent after an outage).
    #[arg(long, env = "EDGEOPS_FORWARD_FORECASTS", default_value_t = true, action = clap::ArgAction::Set)]
    pub forward_forecasts: bool,
    /// Send a packed hub message of at least this many bytes as a zstd frame when that is
    /// smaller; 0 never compresses (a fast uplink and a slow CPU).
    #[arg(long, env = "EDGEOPS_FORWARD_COMPRESS_FROM_BYTES", default_value_t = DEFAULT_COMPRESS_FROM_BYTES)]
    pub compress_from_bytes: usize,
    /// Summarize each device's hours (live error, readings, inputs) and send them to the hub.
    #[arg(long, env = "EDGEOPS_GATEWAY_SUMMARIES", default_value_t = true, action = clap::ArgAction::Set)]
    pub summaries: bool,
    /// Length of a summary window in seconds: whole hours that divide a day. An hour suits
    /// sensors that report every few minutes; for hourly sensors a day (86400) keeps the
    /// summaries' share of the uplink small.
    #[arg(long, env = "EDGEOPS_GATEWAY_SUMMARY_WINDOW_SECS", default_value_t = edgeops_contracts::monitoring::WINDOW_SECS, value_parser = parse_summary_window)]
    pub summary_window_secs: u32,
}

/// A summary window: whole hours dividing a day.
fn parse_summary_window(text: &str) -> Result<u32, String> {
    let secs: u32 = text.parse().map_err(|e| format!("{e}"))?;
    if edgeops_contracts::monitoring::is_window_length(secs) {
        Ok(secs)
    } else {
        Err(format!(
            "{secs} s: a summary window is whole hours that divide a day"
        ))
    }
}

/// Packs of at least this many bytes travel compressed unless configured otherwise: below it,
/// zstd's frame costs about what it saves.
pub const DEFAULT_COMPRESS_FROM_BYTES: usize = 256;

/// Raw readings the forwarder plans, packs and sends per batch, unless configured otherwise.
/// A live site's batch holds what arrived within the linger, so this bounds what queued up (a
/// backlog after an outage, a busy site): there, bigger batches mean bigger packs per device,
/// which compress better (the Parking data set: 13.0% of its raw bytes at 500, 6.1% at 2,000)
/// and need fewer acknowledgement round trips.
pub const DEFAULT_FORWARD_BATCH: usize = 2000;

fn parse_site(value: &str) -> Result<SiteId, String> {
    SiteId::parse(value).map_err(|e| e.to_string())
}

impl GatewayConfig {
    pub fn local(site: SiteId, leaf_url: impl Into<String>) -> Self {
        Self {
            site,
            leaf_url: leaf_url.into(),
            batch_size: DEFAULT_FORWARD_BATCH,
            batch_linger_ms: 20,
            raw_retention_hours: 168,
            raw_max_bytes: 2 * 1024 * 1024 * 1024,
            policy: "forward-all".into(),
            hub_ack_timeout_ms: 5000,
            inference: true,
            trusted_keys: None,
            trusted_key: Vec::new(),
            model_cache_dir: None,
            feature_spec: "indoor_air".into(),
            persistence_horizon_bins: 12,
            forward_forecasts: true,
            compress_from_bytes: DEFAULT_COMPRESS_FROM_BYTES,
            summaries: true,
            summary_window_secs: edgeops_contracts::monitoring::WINDOW_SECS,
        }
    }

    /// The trusted keys from `--trusted-keys` and `--trusted-key` together; none is allowed
    /// (every model is then refused), a path or key that cannot be read is an error.
    pub fn trusted(&self) -> anyhow::Result<TrustedKeys> {
        let mut trusted = TrustedKeys::default();
        if let Some(path) = &self.trusted_keys {
            let loaded = TrustedKeys::load(path)
                .with_context(|| format!("loading trusted keys from {}", path.display()))?;
            trusted = loaded;
        }
        let listed: Vec<&str> = self
            .trusted_key
            .iter()
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
            .collect();
        if !listed.is_empty() {
            let keys =
                TrustedKeys::from_list(&listed.join(","), "--trusted-key / EDGEOPS_TRUSTED_KEYS")?;
            for id in keys.key_ids() {
                if let Some(key) = keys.get(id) {
                    trusted.insert(key.clone());
                }
            }
        }
        Ok(trusted)
    }

    /// How the forwarder packs: the default limits, compressing from `--compress-from-bytes`.
    pub fn pack_limits(&self) -> PackLimits {
        PackLimits {
            compress_from_bytes: (self.compress_from_bytes > 0).then_some(self.compress_from_bytes),
            ..PackLimits::default()
        }
    }

    /// The feature spec `--feature-spec` names.
    pub fn default_spec(&self) -> anyhow::Result<FeatureSpec> {
        FeatureSpec::by_name(&self.feature_spec).with_context(|| {
            format!(
                "unknown feature spec {:?} (known: {})",
                self.feature_spec,
                FeatureSpec::NAMES.join(", ")
            )
        })
    }

    /// Inference settings from the flags.
    pub fn inference_settings(&self) -> anyhow::Result<InferenceSettings> {
        let default_spec = self.default_spec()?;
        let cache_dir = self
            .model_cache_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(".edgeops-cache").join(self.site.as_str()));
        Ok(InferenceSettings {
            default_spec,
            persistence_horizon_bins: self.persistence_horizon_bins,
            trusted: self.trusted()?,
            cache_dir: Some(cache_dir),
            forward_forecasts: self.forward_forecasts,
        })
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
