//! Builds the gateway from its config and runs it until the shutdown future resolves.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use edgeops_bus::topology::{SiteSettings, site_topology};
use edgeops_contracts::streams;
use tokio_util::sync::CancellationToken;

use crate::config::GatewayConfig;
use crate::forward::batch::BatchShape;
use crate::forward::cursor::{Cursor, SEND_KEY};
use crate::forward::{Forwarder, ForwarderStats, ReductionStage};
use crate::inference::{self, InferenceStats, Links};
use crate::monitor::forwarder as summary_forwarder;
use crate::monitor::{Summarizer, SummaryForwarder};

/// How long a stopping gateway waits for the leaf to take its last messages.
const FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs the gateway until `shutdown` resolves.
pub async fn run(
    config: GatewayConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    run_with_stats(config, Arc::new(ForwarderStats::default()), shutdown).await
}

/// As [`run`], reporting progress into `stats` (the demo and tests read it).
pub async fn run_with_stats(
    config: GatewayConfig,
    stats: Arc<ForwarderStats>,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    run_with_all_stats(config, stats, Arc::default(), shutdown).await
}

/// As [`run_with_stats`], also counting forecasts and model changes into `inference_stats`.
pub async fn run_with_all_stats(
    config: GatewayConfig,
    stats: Arc<ForwarderStats>,
    inference_stats: Arc<InferenceStats>,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let site = config.site.clone();
    // Settings are checked before connecting: a wrong key path fails at once, with its reason.
    let inference_settings = if config.inference {
        Some(config.inference_settings()?)
    } else {
        None
    };
    let client = edgeops_bus::connect(&config.leaf_url, &format!("edgeops-gateway-{site}")).await?;
    let local = jetstream::with_domain(client.clone(), streams::edge_domain(&site));
    let settings = SiteSettings {
        raw_max_age: config.raw_retention(),
        raw_max_bytes: config.raw_max_bytes,
    };
    edgeops_bus::provision(&local, &site_topology(&site, &settings))
        .await
        .context("provisioning the site's local stream")?;
    let state = local
        .get_key_value(streams::GATEWAY_STATE_BUCKET)
        .await
        .context("opening gateway state")?;
    // Publishing needs no API domain: the hub stream answers over the leaf link.
    let mut hub = jetstream::new(client.clone());
    hub.set_timeout(config.hub_ack_timeout());
    let policy = config.reduction_policy()?;
    let token = CancellationToken::new();
    let mut inference_tasks = Vec::new();
    let mut models = None;
    if let Some(settings) = inference_settings {
        let links = Links {
            client: client.clone(),
            local: local.clone(),
            hub_api: jetstream::with_domain(client.clone(), streams::HUB_DOMAIN),
            hub: hub.clone(),
        };
        let (tasks, table) = inference::start(
            site.clone(),
            settings,
            links,
            inference_stats,
            token.clone(),
        )
        .await
        .context("starting inference")?;
        inference_tasks = tasks;
        models = Some(table);
    }
    let shape = BatchShape {
        size: config.batch_size,
        linger: config.batch_linger(),
    };
    let reduction = ReductionStage {
        site: site.clone(),
        policy,
        local: local.clone(),
        cursor: Cursor::reduction(state.clone()).await?,
        shape,
        stats: stats.clone(),
    };
    let summary_tasks = if config.summaries {
        start_summaries(&config, &local, &hub, &state, models, &stats, &token)?
    } else {
        tracing::info!(%site, "window summaries are off");
        Vec::new()
    };
    let forwarder = Forwarder {
        site: site.clone(),
        hub_api: jetstream::with_domain(client.clone(), streams::HUB_DOMAIN),
        local,
        hub,
        cursor: Cursor::new(state, SEND_KEY),
        shape,
        pack_limits: config.pack_limits(),
        stats: stats.clone(),
    };
    let progress = tokio::spawn(log_progress(site.to_string(), stats.clone(), token.clone()));
    tracing::info!(%site, leaf = %config.leaf_url, "edge gateway running");
    // Reducing never waits on the uplink, forwarding waits on both; either failing stops both.
    let moving = async {
        tokio::try_join!(reduction.run(token.clone()), forwarder.run(token.clone())).map(|_| ())
    };
    tokio::pin!(moving);
    let result = tokio::select! {
        result = &mut moving => result,
        () = shutdown => {
            token.cancel();
            moving.await
        }
    };
    token.cancel();
    let _ = progress.await;
    for task in inference_tasks.into_iter().chain(summary_tasks) {
        let _ = task.await;
    }
    // Readings and the cursor are already safe in the leaf's JetStream; what a flush still
    // sends is forecasts. A leaf that is gone must not hold the stop up forever.
    match tokio::time::timeout(FLUSH_TIMEOUT, client.flush()).await {
        Ok(flushed) => flushed.context("flushing")?,
        Err(_) => tracing::warn!(
            %site,
            "the leaf did not take the last messages within {FLUSH_TIMEOUT:?}; stopping without them"
        ),
    }
    tracing::info!(%site, forwarded = stats.forwarded.load(Ordering::Relaxed), cursor = stats.cursor.load(Ordering::Relaxed), "edge gateway stopped");
    result
}

/// Spawns the summarizer and the summary forwarder; both end after `token` is cancelled.
fn start_summaries(
    config: &GatewayConfig,
    local: &jetstream::Context,
    hub: &jetstream::Context,
    state: &jetstream::kv::Store,
    models: Option<Arc<inference::ModelTable>>,
    stats: &Arc<ForwarderStats>,
    token: &CancellationToken,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let site = config.site.clone();
    let summarizer = Summarizer {
        site: site.clone(),
        local: local.clone(),
        state: state.clone(),
        default_spec: config.default_spec()?,
        persistence_horizon_bins: config.persistence_horizon_bins,
        models,
        stats: stats.clone(),
        window_secs: config.summary_window_secs,
    };
    let forwarder = SummaryForwarder {
        site: site.clone(),
        local: local.clone(),
        hub: hub.clone(),
        hub_api: jetstream::with_domain(hub.client(), streams::HUB_DOMAIN),
        cursor: Cursor::new(state.clone(), summary_forwarder::CURSOR_KEY),
        shape: BatchShape {
            size: 100,
            linger: config.batch_linger(),
        },
        stats: stats.clone(),
    };
    let summarizing = tokio::spawn(summarizer.run(token.clone()));
    let token = token.clone();
    let forwarding = tokio::spawn(async move {
        if let Err(err) = forwarder.run(token).await {
            tracing::error!(%site, error = %err, "the summary forwarder stopped");
        }
    });
    Ok(vec![summarizing, forwarding])
}

/// A progress line every 10 s while readings move, so an operator sees the gateway work.
async fn log_progress(site: String, stats: Arc<ForwarderStats>, shutdown: CancellationToken) {
    let mut last = 0;
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(10)) => {}
            () = shutdown.cancelled() => return,
        }
        let forwarded = stats.forwarded.load(Ordering::Relaxed);
        if forwarded != last {
            tracing::info!(
                site,
                forwarded,
                cursor = stats.cursor.load(Ordering::Relaxed),
                "forwarding"
            );
            last = forwarded;
        }
    }
}
