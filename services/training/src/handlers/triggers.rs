//! Runs nobody typed: on a schedule, after enough new feature rows, and on a drift signal.

use std::time::Duration;

use async_nats::jetstream::Context;
use async_nats::jetstream::consumer::PullConsumer;
use edgeops_bus::topology::TRAINING_DRIFT_CONSUMER;
use edgeops_contracts::envelope::EventData;
use edgeops_contracts::training::{DriftDetected, RunRequest, Trigger};
use edgeops_contracts::{Actor, EventEnvelope, events::upcasters, streams};
use edgeops_features::FeatureSpec;
use edgeops_store::sqlx::PgPool;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::{SERVICE_NAME, store};

fn scheduler() -> Actor {
    Actor::Service(format!("{SERVICE_NAME}-scheduler"))
}

/// Requests `request` every `every`, the first time one period after start.
pub async fn schedule(
    js: Context,
    request: RunRequest,
    every: Duration,
    shutdown: CancellationToken,
) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick() => {
                let trigger = Trigger::Schedule { every_secs: every.as_secs() };
                if let Err(err) = super::request_run(&js, request.clone(), trigger, scheduler()).await {
                    tracing::warn!(error = %err, "scheduled run not requested");
                }
            }
        }
    }
}

/// Whether enough rows arrived since the last request: pure, so it is tested on its own.
pub fn volume_reached(rows_now: u64, rows_at_last_request: u64, threshold: u64) -> Option<u64> {
    let new_rows = rows_now.saturating_sub(rows_at_last_request);
    (threshold > 0 && new_rows >= threshold).then_some(new_rows)
}

/// Counts the scope's feature rows every `check_every`; requests a run each time `threshold`
/// new rows have arrived since the last one (the count at start is the baseline).
pub async fn data_volume(
    js: Context,
    pool: PgPool,
    request: RunRequest,
    threshold: u64,
    check_every: Duration,
    shutdown: CancellationToken,
) {
    let Some(spec) = FeatureSpec::by_name(&request.spec) else {
        tracing::error!(spec = %request.spec, "data-volume trigger off: unknown feature spec");
        return;
    };
    let mut baseline: Option<u64> = None;
    let mut ticks = tokio::time::interval(check_every);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let rows = match store::count_rows(&pool, &request.scope, &spec).await {
            Ok(rows) => rows,
            Err(err) => {
                tracing::warn!(error = %err, "counting feature rows failed");
                continue;
            }
        };
        let Some(last) = baseline else {
            baseline = Some(rows);
            continue;
        };
        if let Some(new_rows) = volume_reached(rows, last, threshold) {
            let trigger = Trigger::DataVolume {
                new_rows,
                threshold,
            };
            match super::request_run(&js, request.clone(), trigger, scheduler()).await {
                Ok(_) => baseline = Some(rows),
                Err(err) => tracing::warn!(error = %err, "data-volume run not requested"),
            }
        }
    }
}

/// Answers every drift signal with a run for the drifting scope.
pub async fn drift(
    js: Context,
    shutdown: CancellationToken,
) -> Result<(), async_nats::jetstream::stream::ConsumerError> {
    let consumer: PullConsumer = js
        .get_consumer_from_stream(TRAINING_DRIFT_CONSUMER, streams::EVENTS)
        .await?;
    loop {
        let fetched = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            batch = consumer.fetch().max_messages(10).expires(Duration::from_secs(2)).messages() => batch,
        };
        let mut batch = match fetched {
            Ok(batch) => batch,
            Err(err) => {
                tracing::warn!(error = %err, "fetching drift signals failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        while let Some(message) = batch.next().await {
            let Ok(message) = message
                .inspect_err(|e| tracing::warn!(error = %e, "receiving a drift signal failed"))
            else {
                continue;
            };
            let signal = EventEnvelope::decode(&message.payload, &upcasters())
                .ok()
                .filter(|e| e.meta.event_type == DriftDetected::EVENT_TYPE)
                .and_then(|e| e.into_typed::<DriftDetected>().ok());
            if let Some(signal) = signal {
                let request = RunRequest {
                    model: signal.data.model.clone(),
                    scope: signal.data.scope.clone(),
                    spec: signal.data.spec.clone(),
                    from: None,
                    to: None,
                    horizon_bins: signal.data.horizon_bins,
                };
                let trigger = Trigger::Drift {
                    signal: signal.meta.id,
                };
                if let Err(err) = super::request_run(&js, request, trigger, scheduler()).await {
                    tracing::warn!(error = %err, "drift run not requested; retried");
                    let _ = message
                        .ack_with(async_nats::jetstream::AckKind::Nak(Some(
                            Duration::from_secs(5),
                        )))
                        .await;
                    continue;
                }
            }
            if let Err(err) = message.ack().await {
                tracing::warn!(error = %err, "acknowledging a drift signal failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::volume_reached;

    #[test]
    fn the_volume_trigger_fires_at_the_threshold_and_not_before() {
        assert_eq!(volume_reached(1_099, 100, 1_000), None);
        assert_eq!(volume_reached(1_100, 100, 1_000), Some(1_000));
        assert_eq!(volume_reached(5_000, 100, 0), None);
        assert_eq!(volume_reached(50, 100, 10), None);
    }
}
