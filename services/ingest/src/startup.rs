//! Builds ingest from its config and runs it in the service host until the shutdown future
//! resolves: then it stops pulling, writes and acks the batches in hand, deregisters the micro
//! service and returns.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use edgeops_bus::topology::{HubSettings, INGEST_AGGREGATES_CONSUMER, INGEST_CONSUMER};
use edgeops_bus::{ConsumerRunner, RunnerConfig};
use edgeops_contracts::{ReadingLimits, streams};
use edgeops_service_host::Host;

use crate::config::IngestConfig;
use crate::domain::sites::KnownSites;
use crate::handlers::aggregates::AggregatesHandler;
use crate::handlers::readings::ReadingsHandler;
use crate::handlers::{lag, sites::follow_sites};
use crate::service::{self, IngestStats, SERVICE_NAME};

pub async fn run(
    config: IngestConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let settings = HubSettings {
        duplicate_window: Duration::from_secs(config.duplicate_window_secs),
        ingest_max_deliver: config.max_deliver,
        ingest_ack_wait: Duration::from_secs(config.ack_wait_secs),
        ..HubSettings::default()
    };
    let mut host = Host::builder(SERVICE_NAME, &config.hub)
        .hub_settings(settings)
        .skip_provision(config.skip_provision)
        .start(&config.database, config.concurrency as u32 + 2)
        .await?;
    let (js, pool) = (host.js().clone(), host.pool().clone());
    let sites = KnownSites::default();
    let sites_bucket = js
        .get_key_value(streams::SITES_BUCKET)
        .await
        .context("opening the sites bucket")?;
    let stats = Arc::new(IngestStats::default());
    let runner = |stream: &str, durable: &str, batch_size, concurrency| RunnerConfig {
        stream: stream.into(),
        durable: durable.into(),
        batch_size,
        batch_linger: config.batch_linger(),
        concurrency,
        max_deliver: config.max_deliver,
        retry_delay: config.retry_delay(),
    };
    host.consume(ConsumerRunner::new(
        js.clone(),
        runner(
            streams::HUB_READINGS,
            INGEST_CONSUMER,
            config.batch_size,
            config.concurrency,
        ),
        ReadingsHandler {
            pool: pool.clone(),
            sites: sites.clone(),
            sites_bucket: sites_bucket.clone(),
            limits: ReadingLimits::default(),
            stats: stats.clone(),
        },
    ));
    host.consume(ConsumerRunner::new(
        js.clone(),
        runner(streams::HUB_AGGREGATES, INGEST_AGGREGATES_CONSUMER, 100, 1),
        AggregatesHandler { pool },
    ));
    host.spawn_helper("the lag poll", |stop| {
        lag::follow_lag(js, stats.clone(), stop)
    });
    host.spawn_helper("the sites watch", |stop| {
        follow_sites(sites_bucket, sites.clone(), stop)
    });
    let (report_sites, report_stats) = (sites.clone(), stats.clone());
    host.micro(|client, stop| {
        service::serve(
            client,
            move || report_stats.report(report_sites.len()),
            stop,
        )
    });
    tracing::info!(nats = %config.hub.nats_url, batch_size = config.batch_size, concurrency = config.concurrency, "ingest running");
    let outcome = host.run(shutdown).await;
    tracing::info!(stats = ?stats.report(sites.len()), "ingest counters at stop");
    Ok(outcome?)
}
