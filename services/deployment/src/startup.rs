//! Builds deployment from its config and runs it in the service host until the shutdown future
//! resolves; and the projection rebuild, which runs without the rest.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use edgeops_bus::topology::{
    DEPLOYMENT_FORECASTS_CONSUMER, DEPLOYMENT_PROJECTION_CONSUMER, DEPLOYMENT_REPORTS_CONSUMER,
};
use edgeops_bus::{ConsumerRunner, RunnerConfig};
use edgeops_contracts::streams;
use edgeops_eventsourcing::ProjectionConsumer;
use edgeops_registry_api::RegistryClient;
use edgeops_service_host::Host;

use crate::config::DeploymentConfig;
use crate::effects::Effects;
use crate::handlers::commands::Deps;
use crate::handlers::evaluator::Evaluator;
use crate::handlers::forecasts::ForecastsHandler;
use crate::handlers::reports::ReportsHandler;
use crate::handlers::service;
use crate::projection::{DeploymentProjection, RebuildReport};
use crate::rollouts;

fn runner(stream: &str, durable: &str, batch_size: usize, linger_ms: u64) -> RunnerConfig {
    RunnerConfig {
        stream: stream.into(),
        durable: durable.into(),
        batch_size,
        batch_linger: Duration::from_millis(linger_ms),
        concurrency: 1,
        max_deliver: 5,
        retry_delay: Duration::from_secs(1),
    }
}

pub async fn run(
    config: DeploymentConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let mut host = Host::builder(crate::SERVICE_NAME, &config.hub)
        .start(&config.database, 8)
        .await?;
    let (client, js, pool) = (
        host.client().clone(),
        host.js().clone(),
        host.pool().clone(),
    );
    let kv = js
        .get_key_value(streams::DESIRED_BUCKET)
        .await
        .context("opening the desired-state bucket")?;
    let store = Arc::new(rollouts::store(js.clone()));
    let effects = Arc::new(Effects::new(
        kv,
        RegistryClient::new(client.clone()),
        config.write_concurrency,
    ));
    // One worker each: reports of one rollout are recorded in order, and the projection is
    // written in stream order.
    host.consume(ConsumerRunner::new(
        js.clone(),
        runner(streams::EVENTS, DEPLOYMENT_REPORTS_CONSUMER, 500, 50),
        ReportsHandler {
            store: store.clone(),
            effects: effects.clone(),
        },
    ));
    host.consume(ConsumerRunner::new(
        js.clone(),
        runner(
            streams::HUB_FORECASTS,
            DEPLOYMENT_FORECASTS_CONSUMER,
            1_000,
            100,
        ),
        ForecastsHandler { pool: pool.clone() },
    ));
    let projection = ConsumerRunner::new(
        js.clone(),
        runner(streams::EVENTS, DEPLOYMENT_PROJECTION_CONSUMER, 1, 250),
        ProjectionConsumer {
            pool: pool.clone(),
            projection: DeploymentProjection,
        },
    );
    host.consume(projection);
    let deps = Arc::new(Deps {
        js: js.clone(),
        pool: pool.clone(),
        store: store.clone(),
        effects: effects.clone(),
        live_within: config.live_within,
    });
    host.micro(|client, stop| service::serve(client, deps, stop));
    let tick_ms = config.tick_ms;
    let evaluator = Evaluator {
        store,
        effects,
        pool,
        config,
    };
    host.spawn_helper("the evaluator", |stop| evaluator.run(stop));
    tracing::info!(tick_ms, "deployment running");
    Ok(host.run(shutdown).await?)
}

/// `edgeops-deployment rebuild-projection`: empties the projection and replays the stream. Safe
/// while the service runs.
pub async fn rebuild_projection(config: &DeploymentConfig) -> anyhow::Result<RebuildReport> {
    edgeops_service_host::rebuild_projection(
        "deployment",
        &config.hub,
        &config.database,
        &DeploymentProjection,
    )
    .await
}
