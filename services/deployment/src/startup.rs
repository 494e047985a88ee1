//! Builds deployment from its config and runs it until the shutdown future resolves; and the
//! projection rebuild, which runs without the rest.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use edgeops_bus::topology::{
    DEPLOYMENT_FORECASTS_CONSUMER, DEPLOYMENT_PROJECTION_CONSUMER, DEPLOYMENT_REPORTS_CONSUMER,
    hub_topology,
};
use edgeops_bus::{ConsumerRunner, RunnerConfig};
use edgeops_contracts::streams;
use edgeops_registry_api::RegistryClient;
use tokio_util::sync::CancellationToken;

use crate::config::DeploymentConfig;
use crate::effects::Effects;
use crate::eventstore::EventStore;
use crate::handlers::commands::Deps;
use crate::handlers::evaluator::Evaluator;
use crate::handlers::forecasts::ForecastsHandler;
use crate::handlers::projection::ProjectionHandler;
use crate::handlers::reports::ReportsHandler;
use crate::handlers::service;
use crate::projection::{self, RebuildReport};

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
    let client = edgeops_bus::connect(&config.nats_url, "edgeops-deployment").await?;
    let js = jetstream::with_domain(client.clone(), streams::HUB_DOMAIN);
    edgeops_bus::provision(&js, &hub_topology(&Default::default()))
        .await
        .context("provisioning hub streams")?;
    let pool = edgeops_store::connect_and_migrate(&config.database_url, 8)
        .await
        .context("preparing Postgres")?;
    let kv = js
        .get_key_value(streams::DESIRED_BUCKET)
        .await
        .context("opening the desired-state bucket")?;
    let store = Arc::new(EventStore::new(js.clone()).await?);
    let effects = Arc::new(Effects::new(
        kv,
        RegistryClient::new(client.clone()),
        config.write_concurrency,
    ));
    // One worker each: reports of one rollout are recorded in order, and the projection is
    // written in stream order.
    let reports = ConsumerRunner::new(
        js.clone(),
        runner(streams::EVENTS, DEPLOYMENT_REPORTS_CONSUMER, 500, 50),
        ReportsHandler {
            store: store.clone(),
            effects: effects.clone(),
        },
    );
    let forecasts = ConsumerRunner::new(
        js.clone(),
        runner(
            streams::HUB_FORECASTS,
            DEPLOYMENT_FORECASTS_CONSUMER,
            1_000,
            100,
        ),
        ForecastsHandler { pool: pool.clone() },
    );
    let projection = ConsumerRunner::new(
        js.clone(),
        runner(streams::EVENTS, DEPLOYMENT_PROJECTION_CONSUMER, 1, 250),
        ProjectionHandler { pool: pool.clone() },
    );
    let token = CancellationToken::new();
    let deps = Arc::new(Deps {
        js: js.clone(),
        pool: pool.clone(),
        store: store.clone(),
        effects: effects.clone(),
        live_within: config.live_within,
    });
    let micro = tokio::spawn(service::serve(client.clone(), deps, token.clone()));
    let evaluator = Evaluator {
        store,
        effects,
        pool: pool.clone(),
        config: config.clone(),
    };
    let evaluating = tokio::spawn(evaluator.run(token.clone()));
    tracing::info!(tick_ms = config.tick_ms, "deployment running");
    let consuming = async {
        let (reports, forecasts, projection) = tokio::join!(
            reports.run(token.clone()),
            forecasts.run(token.clone()),
            projection.run(token.clone())
        );
        reports.and(forecasts).and(projection)
    };
    tokio::pin!(consuming);
    let outcome = tokio::select! {
        result = &mut consuming => result,
        () = shutdown => {
            tracing::info!("draining in-flight events and requests");
            token.cancel();
            consuming.await
        }
    };
    token.cancel();
    if let Err(err) = evaluating.await {
        tracing::warn!(error = %err, "the evaluator task panicked");
    }
    match micro.await {
        Ok(Err(err)) => tracing::warn!(error = %err, "stopping the micro service"),
        Err(err) => tracing::warn!(error = %err, "the micro service task panicked"),
        Ok(Ok(())) => {}
    }
    client.flush().await.context("flushing acks")?;
    pool.close().await;
    tracing::info!("deployment stopped");
    outcome.map_err(Into::into)
}

/// `edgeops-deployment rebuild-projection`: empties the projection and replays the stream.
pub async fn rebuild_projection(config: &DeploymentConfig) -> anyhow::Result<RebuildReport> {
    let client = edgeops_bus::connect(&config.nats_url, "edgeops-deployment-rebuild").await?;
    let js = jetstream::with_domain(client.clone(), streams::HUB_DOMAIN);
    let pool = edgeops_store::connect_and_migrate(&config.database_url, 2)
        .await
        .context("preparing Postgres")?;
    let report = projection::rebuild(&pool, &js)
        .await
        .context("rebuilding the deployment projection")?;
    pool.close().await;
    Ok(report)
}
