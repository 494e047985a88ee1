//! Builds preprocessing from its config and runs it in the service host until the shutdown
//! future resolves.

use std::future::Future;
use std::time::Duration;

use edgeops_bus::topology::PREPROCESSING_CONSUMER;
use edgeops_bus::{ConsumerRunner, RunnerConfig};
use edgeops_contracts::streams;
use edgeops_service_host::Host;

use crate::config::PreprocessingConfig;
use crate::handlers::readings::ReadingsHandler;

pub async fn run(
    config: PreprocessingConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let mut host = Host::builder("preprocessing", &config.hub)
        .start(&config.database, config.concurrency as u32 + 2)
        .await?;
    let spec = config.feature_spec();
    tracing::info!(spec = %spec.name, version = spec.version, interval_secs = spec.interval_secs, "preprocessing running");
    host.consume(ConsumerRunner::new(
        host.js().clone(),
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
            pool: host.pool().clone(),
            spec,
        },
    ));
    Ok(host.run(shutdown).await?)
}
