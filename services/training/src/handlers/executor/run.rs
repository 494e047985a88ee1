//! A run's event-sourced steps through the kit's [`EventStore`]: load the run, decide, append
//! what was decided after the sequence it was decided on. Everything here is infrastructure
//! (NATS): a failure leaves the delivery unacknowledged until the caller has logged it, and a
//! crash before that retries the run.

use std::time::Instant;

use edgeops_contracts::Actor;
use edgeops_contracts::envelope::EventMeta;
use edgeops_contracts::training::{TrainingFailed, TrainingRequested};
use edgeops_eventsourcing::{Aggregate, EventStore, Provenance, StoreError};

use super::Executor;
use crate::SERVICE_NAME;
use crate::domain::run::{RunCommand, RunError, RunState};

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the run's events: {0}")]
    Store(#[from] StoreError),
    #[error("the run refused its outcome: {0}")]
    Refused(#[from] RunError),
}

impl Executor {
    #[tracing::instrument(skip_all, fields(run = %requested.run, model = %requested.request.model))]
    pub(super) async fn execute(&self, cause: &EventMeta, requested: TrainingRequested) {
        if let Err(err) = self.try_execute(cause, &requested).await {
            // Infrastructure trouble (NATS, Postgres): the delivery is acked by the caller only
            // after this returns, so a crash retries; a live error is logged with its chain.
            tracing::error!(
                error = %err,
                "training run could not be recorded"
            );
        }
    }

    /// Starts the run (or resumes it after a crash), trains, and appends the outcome after the
    /// start: a run someone else recorded meanwhile conflicts instead of finishing twice.
    async fn try_execute(
        &self,
        cause: &EventMeta,
        requested: &TrainingRequested,
    ) -> Result<(), RecordError> {
        let store = EventStore::<RunState>::new(self.js.clone());
        let id = &cause.aggregate_id;
        let actor = Actor::Service(SERVICE_NAME.into());
        let provenance = Provenance::by(&actor).caused_by(Some(cause));
        let loaded = store.load(id).await?;
        let events = match loaded.state.decide(RunCommand::Start) {
            Ok(events) => events,
            Err(reason) => {
                tracing::info!(%reason, "nothing to do for this run");
                return Ok(());
            }
        };
        let started = store.append(id, &loaded, &events, &provenance).await?;
        tracing::info!("training run started");
        let command = match self.train(requested, Instant::now()).await {
            Ok(done) => {
                tracing::info!(
                    winner = %done.winner,
                    seconds = done.seconds,
                    "training run completed"
                );
                RunCommand::Complete(Box::new(done))
            }
            Err(failure) => {
                tracing::warn!(code = failure.code, reason = %failure.reason, "training run failed");
                RunCommand::Fail(TrainingFailed {
                    run: requested.run,
                    code: failure.code.into(),
                    reason: failure.reason,
                })
            }
        };
        let outcome = started.state.decide(command)?;
        store.append(id, &started, &outcome, &provenance).await?;
        Ok(())
    }
}
