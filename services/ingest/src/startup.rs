//! Builds ingest from its config and runs it until the shutdown future resolves.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use edgeops_bus::topology::{
    HubSettings, INGEST_AGGREGATES_CONSUMER, INGEST_CONSUMER, hub_topology,
};
use edgeops_bus::{ConsumerRunner, RunnerConfig};
use edgeops_contracts::{ReadingLimits, streams};
use tokio_util::sync::CancellationToken;

use crate::config::IngestConfig;
use crate::domain::sites::KnownSites;
use crate::handlers::aggregates::AggregatesHandler;
use crate::handlers::readings::ReadingsHandler;
use crate::handlers::sites::follow_sites;
use crate::service::{self, IngestStats};

/// Runs ingest until `shutdown` resolves; then stops pulling, writes and acks the batches in
/// hand, deregisters the micro service and returns.
pub async fn run(
    config: IngestConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let client = edgeops_bus::connect(&config.nats_url, "edgeops-ingest").await?;
    let js = jetstream::with_domain(client.clone(), streams::HUB_DOMAIN);
    if !config.skip_provision {
        let settings = HubSettings {
            duplicate_window: Duration::from_secs(config.duplicate_window_secs),
            ingest_max_deliver: config.max_deliver,
            ingest_ack_wait: Duration::from_secs(config.ack_wait_secs),
            ..HubSettings::default()
        };
        edgeops_bus::provision(&js, &hub_topology(&settings))
            .await
            .context("provisioning hub streams")?;
    }
    let pool =
        edgeops_store::connect_and_migrate(&config.database_url, config.concurrency as u32 + 2)
            .await
            .context("preparing Postgres")?;

    let token = CancellationToken::new();
    let sites = KnownSites::default();
    let sites_bucket = js
        .get_key_value(streams::SITES_BUCKET)
        .await
        .context("opening the sites bucket")?;
    let stats = Arc::new(IngestStats::default());
    let handler = ReadingsHandler {
        pool: pool.clone(),
        sites: sites.clone(),
        sites_bucket: sites_bucket.clone(),
        limits: ReadingLimits::default(),
        stats: stats.clone(),
    };
    let runner = ConsumerRunner::new(
        js.clone(),
        RunnerConfig {
            stream: streams::HUB_READINGS.into(),
            durable: INGEST_CONSUMER.into(),
            batch_size: config.batch_size,
            batch_linger: config.batch_linger(),
            concurrency: config.concurrency,
            max_deliver: config.max_deliver,
            retry_delay: config.retry_delay(),
        },
        handler,
    );

    let aggregates_runner = ConsumerRunner::new(
        js.clone(),
        RunnerConfig {
            stream: streams::HUB_AGGREGATES.into(),
            durable: INGEST_AGGREGATES_CONSUMER.into(),
            batch_size: 100,
            batch_linger: config.batch_linger(),
            concurrency: 1,
            max_deliver: config.max_deliver,
            retry_delay: config.retry_delay(),
        },
        AggregatesHandler { pool: pool.clone() },
    );

    let lag = tokio::spawn(crate::handlers::lag::follow_lag(
        js.clone(),
        stats.clone(),
        token.clone(),
    ));
    let watcher = tokio::spawn(follow_sites(sites_bucket, sites.clone(), token.clone()));
    let report_sites = sites.clone();
    let report_stats = stats.clone();
    let micro = tokio::spawn(service::serve(
        client.clone(),
        move || report_stats.report(report_sites.len()),
        token.clone(),
    ));
    tracing::info!(nats = %config.nats_url, batch_size = config.batch_size, concurrency = config.concurrency, "ingest running");

    let consuming = async {
        let (readings, aggregates) = tokio::join!(
            runner.run(token.clone()),
            aggregates_runner.run(token.clone())
        );
        readings.and(aggregates)
    };
    tokio::pin!(consuming);
    let stop = token.clone();
    let outcome = tokio::select! {
        result = &mut consuming => result,
        () = shutdown => {
            tracing::info!("draining in-flight batches");
            stop.cancel();
            consuming.await
        }
    };
    token.cancel();
    if let Ok(Err(err)) = micro.await {
        tracing::warn!(error = %err, "stopping the micro service");
    }
    let _ = lag.await;
    if let Ok(Err(err)) = watcher.await {
        tracing::warn!(error = %err, "sites watch ended with an error");
    }
    client.flush().await.context("flushing acks")?;
    pool.close().await;
    tracing::info!(stats = ?stats.report(sites.len()), "ingest stopped");
    outcome.map_err(Into::into)
}
