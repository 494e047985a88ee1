//! The demo's model step: once preprocessing has turned the site's readings into feature rows,
//! train a first CO2 forecast for the site and show it against persistence.

use std::time::Duration;

use anyhow::Context as _;
use edgeops_bus::topology::PREPROCESSING_CONSUMER;
use edgeops_contracts::training::{RunRequest, Scope};
use edgeops_contracts::{SiteId, streams};

use super::report;
use crate::commands::train::{RunOutcome, follow, print_completed, request_run};

/// The demo's model: CO2 half an hour ahead (six 5-minute bins) for every room of the site.
pub const MODEL: &str = "co2-30min";

async fn wait_for_features(js: &async_nats::jetstream::Context) -> anyhow::Result<()> {
    let stream = js.get_stream(streams::HUB_READINGS).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let info = stream.consumer_info(PREPROCESSING_CONSUMER).await?;
        if info.num_pending == 0 && info.num_ack_pending == 0 {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!(
                "preprocessing still has {} readings to go",
                info.num_pending
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Trains the first model; returns the run's result for the next steps.
pub async fn train_first_model(
    js: &async_nats::jetstream::Context,
    site: &SiteId,
) -> anyhow::Result<Box<edgeops_contracts::training::TrainingCompleted>> {
    wait_for_features(js)
        .await
        .context("waiting for feature rows")?;
    report::step(&format!(
        "training {MODEL}: CO2 30 minutes ahead for every room of {site} (ridge vs boosted trees vs persistence)"
    ));
    let request = RunRequest {
        model: MODEL.into(),
        scope: Scope::Site { site: site.clone() },
        spec: "indoor_air".into(),
        from: None,
        to: None,
        horizon_bins: 6,
    };
    let run = request_run(&js.client(), request, "demo").await?;
    match follow(js, run, Duration::from_secs(300)).await? {
        RunOutcome::Completed(done) => {
            print_completed(&done);
            Ok(done)
        }
        RunOutcome::Failed(failed) => {
            anyhow::bail!(
                "the demo's training run failed ({}): {}",
                failed.code,
                failed.reason
            )
        }
    }
}
