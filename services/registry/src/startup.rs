//! Builds the registry from its config and runs it in the service host until the shutdown
//! future resolves; and the projection rebuild, which runs without the rest.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use edgeops_artifacts::SigningKeyPair;
use edgeops_bus::topology::{REGISTRY_COMPLETIONS_CONSUMER, REGISTRY_PROJECTION_CONSUMER};
use edgeops_bus::{ConsumerRunner, RunnerConfig};
use edgeops_contracts::streams;
use edgeops_eventsourcing::ProjectionConsumer;
use edgeops_service_host::Host;

use crate::SERVICE_NAME;
use crate::config::RegistryConfig;
use crate::handlers::completions::CompletionsHandler;
use crate::handlers::service::{self, ServiceContext};
use crate::projection::{RebuildReport, RegistryProjection};

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
    let mut host = Host::builder(SERVICE_NAME, &config.hub)
        .start(&config.database, 6)
        .await?;
    let (js, pool) = (host.js().clone(), host.pool().clone());
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
    host.consume(ConsumerRunner::new(
        js.clone(),
        runner(REGISTRY_COMPLETIONS_CONSUMER, 10),
        CompletionsHandler {
            js: js.clone(),
            key: Arc::new(key),
            auto_stage: config.auto_stage,
        },
    ));
    let projection = ConsumerRunner::new(
        js.clone(),
        runner(REGISTRY_PROJECTION_CONSUMER, 1),
        ProjectionConsumer {
            pool: pool.clone(),
            projection: RegistryProjection,
        },
    );
    host.consume(projection);
    let context = Arc::new(ServiceContext { js, pool });
    host.micro(|client, stop| service::serve(client, context, stop));
    tracing::info!(auto_stage = config.auto_stage, "registry running");
    Ok(host.run(shutdown).await?)
}

/// `edgeops-registry rebuild-projection`: empties the projection and replays the stream. Safe
/// while the service runs.
pub async fn rebuild_projection(config: &RegistryConfig) -> anyhow::Result<RebuildReport> {
    edgeops_service_host::rebuild_projection(
        "registry",
        &config.hub,
        &config.database,
        &RegistryProjection,
    )
    .await
}
