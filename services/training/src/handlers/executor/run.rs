//! A run's event-sourced steps: load the run from its events, decide, record what was decided.
//! Everything here is infrastructure (NATS): a failure leaves the delivery unacknowledged until
//! the caller has logged it, and a crash before that retries the run.

use std::time::Instant;

use edgeops_contracts::envelope::{EventEnvelope, EventMeta};
use edgeops_contracts::training::{
    RUN_AGGREGATE, TrainingFailed, TrainingRequested, TrainingStarted,
};
use edgeops_contracts::upcast::UpcastError;
use edgeops_contracts::{events::upcasters, streams, subjects};

use super::{Executor, events};
use crate::domain::run::{RunCommand, RunError, RunEvent, RunState, apply, decide, decode};

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("reading the run's events: {0}")]
    History(#[from] edgeops_bus::HistoryError),
    #[error("a stored run event is unreadable: {0}")]
    Upcast(#[from] UpcastError),
    #[error("a stored run event does not decode: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("recording a run event: {0}")]
    Publish(#[from] edgeops_bus::PublishEventError),
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

    async fn try_execute(
        &self,
        cause: &EventMeta,
        requested: &TrainingRequested,
    ) -> Result<(), RecordError> {
        let (state, last) = self.load(&cause.aggregate_id).await?;
        let events = match decide(&state, RunCommand::Start) {
            Ok(events) => events,
            Err(reason) => {
                tracing::info!(%reason, "nothing to do for this run");
                return Ok(());
            }
        };
        let mut expected = last;
        for event in events {
            expected = events::record(&self.js, cause, event, expected).await?;
        }
        tracing::info!("training run started");
        let started = Instant::now();
        let command = match self.train(requested, started).await {
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
        let state = apply(
            apply(RunState::Unknown, &RunEvent::Requested(requested.clone())),
            &RunEvent::Started(TrainingStarted { run: requested.run }),
        );
        for event in decide(&state, command)? {
            events::record(&self.js, cause, event, expected).await?;
        }
        Ok(())
    }

    /// The run's state and the stream sequence of its last event.
    async fn load(&self, run: &str) -> Result<(RunState, u64), RecordError> {
        let subject = subjects::aggregate_events(RUN_AGGREGATE, run);
        let mut state = RunState::Unknown;
        let mut last = 0;
        for (sequence, bytes) in
            edgeops_bus::read_subject(&self.js, streams::EVENTS, &subject).await?
        {
            let envelope = EventEnvelope::decode(&bytes, &upcasters())?;
            if let Some(event) = decode(&envelope.meta.event_type, envelope.data) {
                state = apply(state, &event?);
            }
            last = sequence;
        }
        Ok((state, last))
    }
}
