//! Builds the registry from its config and runs it until the shutdown future resolves; and
//! the projection rebuild, which runs without the rest.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use edgeops_artifacts::SigningKeyPair;
use edgeops_bus::topology::{
    REGISTRY_COMPLETIONS_CONSUMER, REGISTRY_PROJECTION_CONSUMER, hub_topology,
};
use edgeops_bus::{ConsumerRunner, RunnerConfig};
use edgeops_contracts::streams;
use edgeops_eventsourcing::ProjectionConsumer;
use tokio_util::sync::CancellationToken;

use crate::config::RegistryConfig;
use crate::handlers::completions::CompletionsHandler;
use crate::handlers::service::{self, ServiceContext};
use crate::projection::{self, RebuildReport, RegistryProjection};

/// Loads the signing key the config names (refusing to start without one), then runs.
pub async fn run(
    config: RegistryConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let key = crate::keys::load(config.signing_key_file.as_deref())?;
    run_with_key(config, key, shutdown).await
}

/// Runs with `key` as the signing key (tests and the demo hand one in directly).
pub async fn run_with_key(
    config: RegistryConfig,
    key: SigningKeyPair,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    // The key id only: the secret never reaches a log.
    tracing::info!(key_id = key.key_id(), "signing manifests");
    let client = edgeops_bus::connect(&config.nats_url, "edgeops-registry").await?;
    let js = jetstream::with_domain(client.clone(), streams::HUB_DOMAIN);
    edgeops_bus::provision(&js, &hub_topology(&Default::default()))
        .await
        .context("provisioning hub streams")?;
    let pool = edgeops_store::connect_and_migrate(&config.database_url, 6)
        .await
        .context("preparing Postgres")?;
    // The projection consumer keeps one event in flight (stream order), so a pull for more than
    // one would only wait out its linger: it pulls one at a time.
    let runner = |durable: &str, batch_size: usize| RunnerConfig {
        stream: streams::EVENTS.into(),
        durable: durable.into(),
        batch_size,
        batch_linger: Duration::from_millis(250),
        concurrency: 1,
        max_deliver: 5,
        retry_delay: Duration::from_secs(2),
    };
    let completions = ConsumerRunner::new(
        js.clone(),
        runner(REGISTRY_COMPLETIONS_CONSUMER, 10),
        CompletionsHandler {
            js: js.clone(),
            key: Arc::new(key),
            auto_stage: config.auto_stage,
        },
    );
    let projection = ConsumerRunner::new(
        js.clone(),
        runner(REGISTRY_PROJECTION_CONSUMER, 1),
        ProjectionConsumer {
            pool: pool.clone(),
            projection: RegistryProjection,
        },
    );
    let token = CancellationToken::new();
    let context = Arc::new(ServiceContext {
        js: js.clone(),
        pool: pool.clone(),
    });
    let micro = tokio::spawn(service::serve(client.clone(), context, token.clone()));
    tracing::info!(auto_stage = config.auto_stage, "registry running");
    let consuming = async {
        let (completions, projection) = tokio::join!(
            completions.run(token.clone()),
            projection.run(token.clone())
        );
        completions.and(projection)
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
    match micro.await {
        Ok(Err(err)) => tracing::warn!(error = %err, "stopping the micro service"),
        Err(err) => tracing::warn!(error = %err, "the micro service task panicked"),
        Ok(Ok(())) => {}
    }
    client.flush().await.context("flushing acks")?;
    pool.close().await;
    tracing::info!("registry stopped");
    outcome.map_err(Into::into)
}

/// `edgeops-registry rebuild-projection`: empties the projection and replays the stream. Safe
/// while the service runs (see [`projection::rebuild`]).
pub async fn rebuild_projection(config: &RegistryConfig) -> anyhow::Result<RebuildReport> {
    let client = edgeops_bus::connect(&config.nats_url, "edgeops-registry-rebuild").await?;
    let js = jetstream::with_domain(client.clone(), streams::HUB_DOMAIN);
    let pool = edgeops_store::connect_and_migrate(&config.database_url, 2)
        .await
        .context("preparing Postgres")?;
    let report = projection::rebuild(&pool, &js)
        .await
        .context("rebuilding the registry projection")?;
    pool.close().await;
    Ok(report)
}
