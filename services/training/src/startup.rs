//! Builds training from its config and runs it in the service host until the shutdown future
//! resolves.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use edgeops_ml::TrainConfig;
use edgeops_service_host::Host;

use crate::SERVICE_NAME;
use crate::config::TrainingConfig;
use crate::handlers::{executor::Executor, requests, triggers};

pub async fn run(
    config: TrainingConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let mut host = Host::builder(SERVICE_NAME, &config.hub)
        .start(&config.database, 4)
        .await?;
    if let Err(err) = edgeops_inference::init_runtime() {
        // Runs would all fail their export check: say so now, not once per run.
        tracing::error!(error = %err, "ONNX Runtime not available; runs will fail");
    }
    let (js, pool) = (host.js().clone(), host.pool().clone());
    let executor = Executor {
        client: host.client().clone(),
        js: js.clone(),
        pool: pool.clone(),
        train_config: Arc::new(TrainConfig::default()),
    };
    host.spawn("the run executor", |stop| executor.run(stop));
    let requests_js = js.clone();
    host.micro(|client, stop| requests::serve(client, requests_js, stop));
    host.spawn("the drift trigger", |stop| {
        triggers::drift(js.clone(), stop)
    });
    if let Some(request) = config.scheduled_run.clone() {
        if let Some(every) = config.schedule_every() {
            let (js, request) = (js.clone(), request.clone());
            host.spawn("the schedule", |stop| {
                triggers::schedule(js, request, every, stop)
            });
        }
        if config.retrain_after_rows > 0 {
            let check = Duration::from_secs(config.volume_check_secs.max(1));
            host.spawn("the data-volume trigger", |stop| {
                triggers::data_volume(js, pool, request, config.retrain_after_rows, check, stop)
            });
        }
    }
    tracing::info!("training running");
    Ok(host.run(shutdown).await?)
}
