//! Builds monitoring from its config and runs it in the service host until shutdown; and the
//! projection rebuild, which runs without the rest.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use edgeops_bus::topology::{
    MONITORING_DEAD_LETTERS_CONSUMER, MONITORING_PROJECTION_CONSUMER, MONITORING_SUMMARIES_CONSUMER,
};
use edgeops_bus::{ConsumerRunner, RunnerConfig};
use edgeops_contracts::streams;
use edgeops_eventsourcing::{ProjectionConsumer, RebuildReport};
use edgeops_service_host::Host;

use crate::SERVICE_NAME;
use crate::config::MonitoringConfig;
use crate::handlers::dead_letters::DeadLettersHandler;
use crate::handlers::incidents::Incidents;
use crate::handlers::projection::IncidentsProjection;
use crate::handlers::references::References;
use crate::handlers::summaries::SummariesHandler;
use crate::handlers::{service, watch};
use crate::metrics::Metrics;

pub async fn run(
    config: MonitoringConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let mut host = Host::builder(SERVICE_NAME, &config.hub)
        .start(&config.database, 4)
        .await?;
    let (js, pool) = (host.js().clone(), host.pool().clone());
    let sites = js
        .get_key_value(streams::SITES_BUCKET)
        .await
        .context("opening the sites bucket")?;
    let incidents = Incidents::new(js.clone());
    // Deployment's bucket; absent until deployment provisions it (the registry is asked then).
    let desired = js.get_key_value(streams::DESIRED_BUCKET).await.ok();
    let levels = config.levels();
    let runner = |stream: &str, durable: &str, batch_size| RunnerConfig {
        stream: stream.into(),
        durable: durable.into(),
        batch_size,
        batch_linger: Duration::from_millis(250),
        concurrency: 1,
        max_deliver: 5,
        retry_delay: Duration::from_secs(2),
    };
    host.consume(ConsumerRunner::new(
        js.clone(),
        runner(streams::HUB_SUMMARIES, MONITORING_SUMMARIES_CONSUMER, 50),
        SummariesHandler {
            pool: pool.clone(),
            sites,
            incidents: incidents.clone(),
            references: References::new(host.client().clone(), desired),
            levels: levels.clone(),
            metrics: Metrics::default(),
        },
    ));
    host.consume(ConsumerRunner::new(
        js.clone(),
        runner(streams::DEAD_LETTERS, MONITORING_DEAD_LETTERS_CONSUMER, 100),
        DeadLettersHandler {
            pool: pool.clone(),
            incidents: incidents.clone(),
            levels: levels.clone(),
        },
    ));
    host.consume(ConsumerRunner::new(
        js.clone(),
        runner(streams::EVENTS, MONITORING_PROJECTION_CONSUMER, 1),
        ProjectionConsumer {
            pool: pool.clone(),
            projection: IncidentsProjection,
        },
    ));
    let every = Duration::from_secs(config.check_every_secs.max(1));
    let watch_pool = pool.clone();
    host.spawn_helper("the site-link watch", move |stop| {
        watch::watch_site_links(watch_pool, incidents, levels, every, stop)
    });
    let pool = Arc::new(pool);
    host.micro(|client, stop| service::serve(client, pool, stop));
    tracing::info!("monitoring running");
    Ok(host.run(shutdown).await?)
}

/// `edgeops-monitoring rebuild-projection`: empties the incidents table and replays.
pub async fn rebuild_projection(config: &MonitoringConfig) -> anyhow::Result<RebuildReport> {
    edgeops_service_host::rebuild_projection(
        SERVICE_NAME,
        &config.hub,
        &config.database,
        &IncidentsProjection,
    )
    .await
}
