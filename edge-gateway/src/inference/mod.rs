//! In-process inference at the edge: forecasts per device from the site's raw readings, by the
//! model the hub's desired state names, verified before it is loaded and swapped in without a
//! dropped or half-computed forecast.
//!
//! - [`window`], [`engine`]: pure(ish) forecasting: readings into per-device windows, the
//!   newest feature row through the shared feature code, the current model or persistence.
//! - [`active`], [`table`]: a verified, loaded, warmed-up model; which one each device serves
//!   and the one before it (instant rollback).
//! - [`deployer`], [`fetch`], [`reports`]: desired state in, reported state out.
//! - [`cache`], [`restore`]: verified models on disk, served at start without the uplink.
//! - [`feed`], [`uplink`]: the local readings in, forecasts out (at the site, and best effort to
//!   the hub).

pub mod active;
pub mod bins;
pub mod cache;
pub mod deployer;
pub mod engine;
pub mod feed;
pub mod fetch;
pub mod reports;
pub mod restore;
pub mod table;
pub mod uplink;
pub mod window;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

use async_nats::jetstream;
use edgeops_artifacts::TrustedKeys;
use edgeops_contracts::SiteId;
use edgeops_features::FeatureSpec;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use active::{ActiveModel, Refusal};
pub use cache::ModelCache;
pub use deployer::Deployer;
pub use engine::Engine;
pub use reports::Reporter;
pub use table::ModelTable;

/// What inference needs besides the connections.
#[derive(Debug, Clone)]
pub struct InferenceSettings {
    /// Whose target persistence forecasts before a device has a model.
    pub default_spec: FeatureSpec,
    /// Horizon of persistence forecasts before a device has a model.
    pub persistence_horizon_bins: u32,
    pub trusted: TrustedKeys,
    /// Where verified models are kept for restarts without uplink; `None`: nowhere.
    pub cache_dir: Option<PathBuf>,
    /// Whether forecasts are also sent to the hub.
    pub forward_forecasts: bool,
}

/// Counters since start.
#[derive(Debug, Default)]
pub struct InferenceStats {
    /// New readings the feed has handled (forecast from, or not valid).
    pub readings: AtomicU64,
    pub forecasts_model: AtomicU64,
    pub forecasts_persistence: AtomicU64,
    /// Forecasts the hub acknowledged (at most one per device and feature bin), and forecasts
    /// that did not reach it.
    pub forwarded: AtomicU64,
    pub forward_dropped: AtomicU64,
    pub applied: AtomicU64,
    pub refused: AtomicU64,
    /// Set once the feed reads live readings: from then on every new reading is forecast.
    pub feeding: AtomicBool,
}

/// The connections inference uses, all through the site's leaf server.
#[derive(Clone)]
pub struct Links {
    pub client: async_nats::Client,
    /// The site's own JetStream (domain `edge-<site>`).
    pub local: jetstream::Context,
    /// The hub's JetStream API (domain `hub`): desired state and the model store.
    pub hub_api: jetstream::Context,
    /// Publishing to hub streams (reports, forecasts), with the hub acknowledgement timeout.
    pub hub: jetstream::Context,
}

#[derive(Debug, thiserror::Error)]
#[error("provisioning the site's forecast stream: {0}")]
pub struct StartError(#[from] edgeops_bus::ProvisionError);

/// Starts inference and returns its tasks, which end after `shutdown`: provisions the local
/// forecast stream, starts ONNX Runtime, serves the cached models, then runs the deployer, the
/// reading feed, the hub uplink of forecasts and the reporter. Returns them with the model
/// table (the summarizer reads which model versions the devices serve).
pub async fn start(
    site: SiteId,
    settings: InferenceSettings,
    links: Links,
    stats: Arc<InferenceStats>,
    shutdown: CancellationToken,
) -> Result<(Vec<JoinHandle<()>>, Arc<ModelTable>), StartError> {
    edgeops_bus::provision(
        &links.local,
        &edgeops_bus::topology::site_inference_topology(&site),
    )
    .await?;
    let table = Arc::new(ModelTable::default());
    let trusted = Arc::new(settings.trusted);
    if trusted.is_empty() {
        tracing::warn!(%site, "no trusted keys: every model will be refused (set --trusted-keys or EDGEOPS_TRUSTED_KEYS)");
    }
    let cache = settings.cache_dir.map(ModelCache::new);
    let restored = {
        let (cache, trusted, table) = (cache.clone(), trusted.clone(), table.clone());
        tokio::task::spawn_blocking(move || {
            if let Err(err) = edgeops_inference::init_runtime() {
                tracing::error!(error = %err, "ONNX Runtime is unavailable: forecasting persistence only, and every model will be refused");
            }
            cache.map_or(0, |c| restore::restore(&c, &trusted, &table))
        })
        .await
        .unwrap_or(0)
    };
    tracing::info!(%site, restored, "inference starting");
    let (reporter, reporting) = Reporter::spawn(site.clone(), links.hub.clone(), shutdown.clone());
    let deployer = Deployer::new(
        site.clone(),
        links.hub_api.clone(),
        table.clone(),
        trusted,
        cache,
        reporter,
        stats.clone(),
    );
    let mut tasks = vec![reporting, tokio::spawn(deployer.run(shutdown.clone()))];
    let uplink = if settings.forward_forecasts {
        let (uplink, task) =
            uplink::ForecastUplink::spawn(site.clone(), links.hub, stats.clone(), shutdown.clone());
        tasks.push(task);
        Some(uplink)
    } else {
        None
    };
    let engine = Engine::new(
        site.clone(),
        settings.default_spec,
        settings.persistence_horizon_bins,
        table.clone(),
    );
    let feed = feed::Feed {
        site,
        client: links.client,
        local: links.local,
        engine,
        uplink,
        stats,
    };
    tasks.push(tokio::spawn(feed.run(shutdown)));
    Ok((tasks, table))
}

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
