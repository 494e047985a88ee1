//! One file per way work reaches training: operator requests, the run executor, and the
//! automatic triggers (schedule, data volume, drift).

pub mod executor;
pub mod requests;
pub mod triggers;

use async_nats::jetstream::Context;
use edgeops_contracts::Actor;
use edgeops_contracts::envelope::EventEnvelope;
use edgeops_contracts::training::{RUN_AGGREGATE, RunRequest, TrainingRequested, Trigger};
use uuid::Uuid;

/// Records a new run's `requested` event; the executor picks it up from the stream.
pub async fn request_run(
    js: &Context,
    request: RunRequest,
    trigger: Trigger,
    actor: Actor,
) -> Result<Uuid, edgeops_bus::PublishEventError> {
    let run = Uuid::now_v7();
    let event = EventEnvelope::new(
        RUN_AGGREGATE,
        &run.to_string(),
        actor,
        TrainingRequested {
            run,
            request,
            trigger,
        },
    );
    edgeops_bus::publish_event(js, &event, Some(0)).await?;
    tracing::info!(%run, "training run requested");
    Ok(run)
}
