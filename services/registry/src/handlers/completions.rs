//! Registration from training: the batch handler for `edgeops.events.training_run.*`.
//!
//! A `training.completed` event becomes a version in four recorded steps: allocate the next
//! number on the model's subject (idempotent per run), then register, attach the holdout
//! metrics and sign the manifest on the version's subject, and, when auto-staging is on, try
//! `dev -> staging`. Every append carries the sequence the stream was read at. The steps are
//! planned from what the version's stream already holds, so a completion delivered again
//! resumes where the last attempt stopped and never makes a second version.

use std::sync::Arc;

use async_nats::jetstream::{Context, Message};
use chrono::Utc;
use edgeops_artifacts::{SigningKeyPair, sign};
use edgeops_bus::Outcome;
use edgeops_contracts::envelope::{EventData, EventEnvelope, EventMeta};
use edgeops_contracts::training::TrainingCompleted;
use edgeops_contracts::upcast::UpcastError;
use edgeops_contracts::{Actor, RejectCode, Rejection};
use tracing::Instrument;
use uuid::Uuid;

use edgeops_eventsourcing::{EventStore, ExecError, Expect, Provenance, StoreError};

use crate::domain::{
    Allocations, Command, ModelVersionKey, Step, VersionsExhausted, decide, next_step, precheck,
    proposal, upcasters,
};
use crate::handlers::commands::versions;
use edgeops_registry_api::{ModelName, Stage};

/// Appends tried per completion before it is handed back for a later delivery: each conflict
/// means another writer made progress, so a handful is plenty.
const ATTEMPTS: usize = 12;

pub struct CompletionsHandler {
    pub js: Context,
    pub key: Arc<SigningKeyPair>,
    pub auto_stage: bool,
}

#[derive(Debug, thiserror::Error)]
enum RegisterError {
    /// The completion can never register; dead-letter it.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("gave up after {ATTEMPTS} conflicting appends")]
    Busy,
    #[error(transparent)]
    Allocation(ExecError<VersionsExhausted>),
}

fn actor() -> Actor {
    Actor::Service(crate::SERVICE_NAME.into())
}

impl edgeops_bus::BatchHandler for CompletionsHandler {
    async fn handle(&self, batch: &[Message]) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(batch.len());
        for message in batch {
            outcomes.push(self.handle_one(message).await);
        }
        outcomes
    }
}

impl CompletionsHandler {
    async fn handle_one(&self, message: &Message) -> Outcome {
        let reject = |code, detail: String| Outcome::Reject(Rejection::new(code, detail));
        let envelope = match EventEnvelope::decode(&message.payload, upcasters()) {
            Ok(envelope) => envelope,
            Err(err @ UpcastError::FromTheFuture { .. }) => {
                return reject(RejectCode::UnsupportedVersion, err.to_string());
            }
            Err(err) => return reject(RejectCode::InvalidJson, err.to_string()),
        };
        if envelope.meta.event_type != TrainingCompleted::EVENT_TYPE {
            return Outcome::Ack;
        }
        let meta = envelope.meta.clone();
        let done = match envelope.into_typed::<TrainingCompleted>() {
            Ok(typed) => typed.data,
            Err(err) => return reject(RejectCode::WrongType, err.to_string()),
        };
        if let Err(reason) = precheck(&done) {
            return reject(
                RejectCode::OutOfRange,
                format!("run {}: {reason}", done.run),
            );
        }
        let span = tracing::info_span!(
            "edgeops.registry.register",
            run = %done.run,
            model = %done.request.model,
            version = tracing::field::Empty
        );
        edgeops_telemetry::propagation::continue_trace(&span, message.headers.as_ref());
        match self.register(&meta, &done).instrument(span).await {
            Ok(()) => Outcome::Ack,
            Err(RegisterError::Refused(reason)) => reject(
                RejectCode::OutOfRange,
                format!("run {}: {reason}", done.run),
            ),
            Err(err) => {
                tracing::warn!(run = %done.run, error = %err, "registration will be retried");
                Outcome::Retry {
                    reason: err.to_string(),
                }
            }
        }
    }

    async fn register(
        &self,
        cause: &EventMeta,
        done: &TrainingCompleted,
    ) -> Result<(), RegisterError> {
        let model = ModelName::parse(done.request.model.as_str())
            .map_err(|e| RegisterError::Refused(e.to_string()))?;
        let version = self.allocate(cause, &model, done.run).await?;
        tracing::Span::current().record("version", version);
        let key = ModelVersionKey { model, version };
        let proposal = proposal(done, version).map_err(RegisterError::Refused)?;
        let id = key.aggregate_id();
        let store = versions(&self.js);
        let actor = actor();
        let provenance = Provenance::by(&actor).caused_by(Some(cause));
        let mut loaded = store.load(&id).await?;
        for _ in 0..ATTEMPTS {
            let events: Vec<_> = loaded.events().cloned().collect();
            let command = match next_step(&loaded.state, &events, self.auto_stage) {
                Step::Done => {
                    tracing::info!(%key, stage = ?loaded.state.stage(), "model version registered");
                    return Ok(());
                }
                Step::Register => Command::Register(proposal.registered.clone()),
                Step::AttachMetrics => Command::AttachMetrics {
                    holdout_fingerprint: proposal.registered.holdout.fingerprint.clone(),
                    metrics: proposal.metrics.clone(),
                },
                Step::Sign => self.sign_command(&loaded.state)?,
                Step::AutoStage => Command::Promote {
                    to: Stage::Staging,
                    current_prod: None,
                    actor: actor.clone(),
                    at: Utc::now(),
                },
            };
            let events = decide(&loaded.state, command)
                .map_err(|e| RegisterError::Refused(e.to_string()))?;
            match store.append(&id, &loaded, &events, &provenance).await {
                Ok(next) => loaded = next,
                // Another delivery of this completion got there first: see what it recorded.
                Err(err) if err.is_conflict() => loaded = store.load(&id).await?,
                Err(err) => return Err(err.into()),
            }
        }
        Err(RegisterError::Busy)
    }

    fn sign_command(
        &self,
        state: &crate::domain::ModelVersionState,
    ) -> Result<Command, RegisterError> {
        let refused = |reason: String| RegisterError::Refused(reason);
        let version = state
            .version()
            .ok_or_else(|| refused("signing an unregistered version".into()))?;
        let manifest = version
            .manifest_to_sign(Utc::now())
            .map_err(|e| refused(e.to_string()))?;
        let signed = sign(manifest, &self.key).map_err(|e| refused(e.to_string()))?;
        Ok(Command::SignManifest {
            signed: Box::new(signed),
            signer: self.key.public_key().clone(),
        })
    }

    /// The run's version number: the one it already has, or the next one.
    async fn allocate(
        &self,
        cause: &EventMeta,
        model: &ModelName,
        run: Uuid,
    ) -> Result<u32, RegisterError> {
        let actor = actor();
        let provenance = Provenance::by(&actor).caused_by(Some(cause));
        let allocated = EventStore::<Allocations>::new(self.js.clone())
            .handle(model.as_str(), run, &provenance, Expect::Latest)
            .await;
        match allocated {
            Ok((loaded, _)) => loaded
                .state
                .version_of(run)
                .ok_or_else(|| RegisterError::Refused(format!("run {run} got no version"))),
            Err(ExecError::Decide(VersionsExhausted)) => Err(RegisterError::Refused(format!(
                "model {model} has used every version number"
            ))),
            Err(err) => Err(RegisterError::Allocation(err)),
        }
    }
}
