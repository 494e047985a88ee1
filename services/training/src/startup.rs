//! Builds training from its config and runs it until the shutdown future resolves.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use edgeops_bus::topology::hub_topology;
use edgeops_contracts::streams;
use edgeops_ml::TrainConfig;
use tokio_util::sync::CancellationToken;

use crate::config::TrainingConfig;
use crate::handlers::{executor::Executor, requests, triggers};

pub async fn run(
    config: TrainingConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let client = edgeops_bus::connect(&config.nats_url, "edgeops-training").await?;
    let js = jetstream::with_domain(client.clone(), streams::HUB_DOMAIN);
    edgeops_bus::provision(&js, &hub_topology(&Default::default()))
        .await
        .context("provisioning hub streams")?;
    let pool = edgeops_store::connect_and_migrate(&config.database_url, 4)
        .await
        .context("preparing Postgres")?;
    if let Err(err) = edgeops_inference::init_runtime() {
        // Runs would all fail their export check: say so now, not once per run.
        tracing::error!(error = %err, "ONNX Runtime not available; runs will fail");
    }
    let token = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(
        Executor {
            client: client.clone(),
            js: js.clone(),
            pool: pool.clone(),
            train_config: Arc::new(TrainConfig::default()),
        }
        .run(token.clone()),
    );
    tasks.spawn({
        let (client, js, token) = (client.clone(), js.clone(), token.clone());
        async move {
            requests::serve(client, js, token)
                .await
                .map_err(|e| anyhow::anyhow!(e))
        }
    });
    tasks.spawn(triggers::drift(js.clone(), token.clone()));
    if let Some(request) = config.scheduled_run.clone() {
        if let Some(every) = config.schedule_every() {
            tasks.spawn({
                let (js, request, token) = (js.clone(), request.clone(), token.clone());
                async move {
                    triggers::schedule(js, request, every, token).await;
                    Ok(())
                }
            });
        }
        if config.retrain_after_rows > 0 {
            let check = Duration::from_secs(config.volume_check_secs.max(1));
            tasks.spawn(infallible(triggers::data_volume(
                js.clone(),
                pool.clone(),
                request,
                config.retrain_after_rows,
                check,
                token.clone(),
            )));
        }
    }
    tracing::info!("training running");
    let mut result = Ok(());
    tokio::select! {
        () = shutdown => {}
        Some(done) = tasks.join_next() => {
            result = done.context("a training task panicked").and_then(|r| r);
        }
    }
    token.cancel();
    while let Some(done) = tasks.join_next().await {
        if let Err(err) = done.context("a training task panicked").and_then(|r| r) {
            tracing::warn!(
                error = format!("{err:#}"),
                "training task ended with an error"
            );
        }
    }
    client.flush().await.context("flushing")?;
    pool.close().await;
    tracing::info!("training stopped");
    result
}

/// A task that cannot fail, as the task set's result type.
async fn infallible(task: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
    task.await;
    Ok(())
}
