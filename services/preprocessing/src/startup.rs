//! Builds preprocessing from its config and runs it until the shutdown future resolves.

use std::future::Future;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use edgeops_bus::topology::{PREPROCESSING_CONSUMER, hub_topology};
use edgeops_bus::{ConsumerRunner, RunnerConfig};
use edgeops_contracts::streams;
use tokio_util::sync::CancellationToken;

use crate::config::PreprocessingConfig;
use crate::handlers::readings::ReadingsHandler;

pub async fn run(
    config: PreprocessingConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let client = edgeops_bus::connect(&config.nats_url, "edgeops-preprocessing").await?;
    let js = jetstream::with_domain(client.clone(), streams::HUB_DOMAIN);
    edgeops_bus::provision(&js, &hub_topology(&Default::default()))
        .await
        .context("provisioning hub streams")?;
    let pool =
        edgeops_store::connect_and_migrate(&config.database_url, config.concurrency as u32 + 2)
            .await
            .context("preparing Postgres")?;
    let spec = config.feature_spec();
    tracing::info!(spec = %spec.name, version = spec.version, interval_secs = spec.interval_secs, "preprocessing running");
    let runner = ConsumerRunner::new(
        js,
        RunnerConfig {
            stream: streams::HUB_READINGS.into(),
            durable: PREPROCESSING_CONSUMER.into(),
            batch_size: config.batch_size,
            batch_linger: Duration::from_millis(100),
            concurrency: config.concurrency,
            max_deliver: 5,
            retry_delay: Duration::from_secs(2),
        },
        ReadingsHandler {
            pool: pool.clone(),
            spec,
        },
    );
    let token = CancellationToken::new();
    let consuming = runner.run(token.clone());
    tokio::pin!(consuming);
    let result = tokio::select! {
        result = &mut consuming => result,
        () = shutdown => {
            token.cancel();
            consuming.await
        }
    };
    client.flush().await.context("flushing acks")?;
    pool.close().await;
    tracing::info!("preprocessing stopped");
    result.map_err(Into::into)
}
