//! Executes requested runs, one at a time, from the durable consumer on training-run events.
//! The delivery stays unacknowledged (kept alive by progress acks) until the run's `completed` or
//! `failed` event is stored, so a killed process leaves the run to be resumed, never lost; the
//! run's own last event says whether there is anything left to do.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::message::Message;
use async_nats::jetstream::{Context, consumer::PullConsumer, object_store};
use edgeops_bus::topology::TRAINING_RUNS_CONSUMER;
use edgeops_contracts::envelope::{EventEnvelope, EventMeta};
use edgeops_contracts::manifest::ArtifactRef;
use edgeops_contracts::training::{
    CandidateResult, DatasetFingerprint, IncumbentResult, RUN_AGGREGATE, StoredArtifact,
    TrainingCompleted, TrainingFailed, TrainingRequested,
};
use edgeops_contracts::{Actor, events::upcasters, streams, subjects};
use edgeops_features::FeatureSpec;
use edgeops_ml::TrainConfig;
use edgeops_registry_api::{ProdQuery, RegistryClient};
use edgeops_store::sqlx::PgPool;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::domain::failure::RunFailure;
use crate::domain::run::{RunCommand, RunEvent, RunState, apply, decide, decode};
use crate::pipeline::{self, Trained};
use crate::{SERVICE_NAME, code_version, store};

pub struct Executor {
    pub client: async_nats::Client,
    pub js: Context,
    pub pool: PgPool,
    pub train_config: Arc<TrainConfig>,
}

fn actor() -> Actor {
    Actor::Service(SERVICE_NAME.into())
}

impl Executor {
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let consumer: PullConsumer = self
            .js
            .get_consumer_from_stream(TRAINING_RUNS_CONSUMER, streams::EVENTS)
            .await?;
        loop {
            let fetched = tokio::select! {
                () = shutdown.cancelled() => break,
                batch = consumer.fetch().max_messages(1).expires(Duration::from_secs(2)).messages() => batch,
            };
            // The hub may be away (restart, link cut): wait and ask again, never give up.
            let mut batch = match fetched {
                Ok(batch) => batch,
                Err(err) => {
                    tracing::warn!(error = %err, "fetching run events failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            while let Some(message) = batch.next().await {
                match message {
                    Ok(message) => self.handle(&message).await,
                    Err(err) => tracing::warn!(error = %err, "receiving a run event failed"),
                }
            }
        }
        Ok(())
    }

    async fn handle(&self, message: &Message) {
        let requested = match EventEnvelope::decode(&message.payload, &upcasters())
            .map(|e| (e.meta.clone(), decode(&e.meta.event_type, e.data)))
        {
            Ok((meta, Some(Ok(RunEvent::Requested(requested))))) => Some((meta, requested)),
            Ok(_) => None,
            Err(err) => {
                tracing::warn!(error = %err, subject = %message.subject, "unreadable run event skipped");
                None
            }
        };
        if let Some((meta, requested)) = requested {
            let keep_alive = keep_alive(message);
            self.execute(&meta, requested).await;
            keep_alive.cancel();
        }
        if let Err(err) = message.ack().await {
            tracing::warn!(error = %err, "acknowledging a run event failed; it will be redelivered");
        }
    }

    /// The run's state and the stream sequence of its last event.
    async fn load(&self, run: &str) -> anyhow::Result<(RunState, u64)> {
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

    async fn record(
        &self,
        cause: &EventMeta,
        event: RunEvent,
        expected: u64,
    ) -> anyhow::Result<u64> {
        let id = cause.aggregate_id.clone();
        let ack = match event {
            RunEvent::Started(data) => publish(&self.js, cause, &id, data, expected).await?,
            RunEvent::Completed(data) => publish(&self.js, cause, &id, *data, expected).await?,
            RunEvent::Failed(data) => publish(&self.js, cause, &id, data, expected).await?,
            RunEvent::Requested(data) => publish(&self.js, cause, &id, data, expected).await?,
        };
        Ok(ack)
    }

    #[tracing::instrument(skip_all, fields(run = %requested.run, model = %requested.request.model))]
    async fn execute(&self, cause: &EventMeta, requested: TrainingRequested) {
        if let Err(err) = self.try_execute(cause, &requested).await {
            // Infrastructure trouble (NATS, Postgres): the delivery is acked by the caller only
            // after this returns, so a crash retries; a live error is logged with its chain.
            tracing::error!(
                error = format!("{err:#}"),
                "training run could not be recorded"
            );
        }
    }

    async fn try_execute(
        &self,
        cause: &EventMeta,
        requested: &TrainingRequested,
    ) -> anyhow::Result<()> {
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
            expected = self.record(cause, event, expected).await?;
        }
        tracing::info!("training run started");
        let started = Instant::now();
        let outcome = self.train(requested, started).await;
        let event = match outcome {
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
            &RunEvent::Started(edgeops_contracts::training::TrainingStarted { run: requested.run }),
        );
        for event in decide(&state, event)? {
            self.record(cause, event, expected).await?;
        }
        Ok(())
    }

    async fn train(
        &self,
        requested: &TrainingRequested,
        started: Instant,
    ) -> Result<TrainingCompleted, RunFailure> {
        let request = requested.request.clone();
        let spec = FeatureSpec::by_name(&request.spec).ok_or_else(|| {
            RunFailure::new(
                "bad_spec",
                format!("unknown feature spec {:?}", request.spec),
            )
        })?;
        let devices = store::load_rows(&self.pool, &request.scope, &spec, request.from, request.to)
            .await
            .map_err(|e| RunFailure::new("storage", e.to_string()))?;
        if devices.is_empty() {
            return Err(RunFailure::new(
                "no_rows",
                format!(
                    "no {} v{} feature rows for scope {} in the requested range",
                    spec.name,
                    spec.version,
                    request.scope.key()
                ),
            ));
        }
        let run = requested.run;
        let config = self.train_config.clone();
        let (spec_for_fit, request_for_fit) = (spec.clone(), request.clone());
        let trained = tokio::task::spawn_blocking(move || {
            pipeline::train_and_export(run, &request_for_fit, &spec_for_fit, &devices, &config)
        })
        .await
        .map_err(|e| RunFailure::new("fit_failed", e.to_string()))??;
        let incumbent = self.score_incumbent(&request, &trained).await;
        let artifact = self
            .store_artifact(&request.model, run, &trained.onnx)
            .await?;
        Ok(completed(
            requested,
            &spec,
            trained,
            incumbent,
            artifact,
            started.elapsed(),
        ))
    }

    /// The scope's production model scored on this run's holdout, when the registry knows one.
    async fn score_incumbent(
        &self,
        request: &edgeops_contracts::training::RunRequest,
        trained: &Trained,
    ) -> Option<IncumbentResult> {
        let query = ProdQuery {
            model: request.model.clone(),
            scope: request.scope.clone(),
        };
        let prod = RegistryClient::new(self.client.clone())
            .prod(&query)
            .await
            .inspect_err(
                |e| tracing::info!(error = %e, "no registry answer; no incumbent to compare"),
            )
            .ok()?
            .prod?;
        let onnx = read_object(&self.js, &prod.artifact).await.ok()?;
        match trained.score_other(&onnx) {
            Ok(holdout) => Some(IncumbentResult {
                model: prod.model,
                version: prod.version,
                holdout,
            }),
            Err(failure) => {
                tracing::warn!(%failure, version = prod.version, "production model not comparable");
                None
            }
        }
    }

    async fn store_artifact(
        &self,
        model: &str,
        run: uuid::Uuid,
        onnx: &[u8],
    ) -> Result<StoredArtifact, RunFailure> {
        let storage = |e: &dyn std::fmt::Display| {
            RunFailure::new("storage", format!("storing the model: {e}"))
        };
        let bucket = self
            .js
            .get_object_store(streams::MODELS_BUCKET)
            .await
            .map_err(|e| storage(&e))?;
        let name = format!("{model}/{run}.onnx");
        let mut reader = onnx;
        bucket
            .put(
                object_store::ObjectMetadata {
                    name: name.clone(),
                    description: Some(format!("model {model}, training run {run}")),
                    ..Default::default()
                },
                &mut reader,
            )
            .await
            .map_err(|e| storage(&e))?;
        Ok(StoredArtifact {
            bucket: streams::MODELS_BUCKET.into(),
            artifact: ArtifactRef::of(name, onnx),
        })
    }
}

/// Reads a model object in full.
pub async fn read_object(js: &Context, stored: &StoredArtifact) -> anyhow::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let bucket = js.get_object_store(&stored.bucket).await?;
    let mut object = bucket.get(&stored.artifact.object_name).await?;
    let mut bytes = Vec::with_capacity(stored.artifact.size_bytes as usize);
    object.read_to_end(&mut bytes).await?;
    Ok(bytes)
}

fn completed(
    requested: &TrainingRequested,
    spec: &FeatureSpec,
    trained: Trained,
    incumbent: Option<IncumbentResult>,
    artifact: StoredArtifact,
    elapsed: Duration,
) -> TrainingCompleted {
    let request = requested.request.clone();
    let report = &trained.report;
    TrainingCompleted {
        run: requested.run,
        dataset: DatasetFingerprint {
            scope: request.scope.clone(),
            from: request.from,
            to: request.to,
            spec_name: spec.name.clone(),
            spec_version: spec.version,
            horizon_bins: request.horizon_bins,
            rows: trained.dataset.rows(),
            content_sha256: trained.dataset.content_sha256.clone(),
        },
        feature_names: trained.dataset.feature_names.clone(),
        holdout_fingerprint: report.holdout_fingerprint.clone(),
        holdout_from: report.holdout_from,
        train_rows: report.train_rows,
        holdout_rows: report.holdout_rows,
        persistence: report.persistence,
        seasonal_naive: report.seasonal_naive,
        candidates: report
            .candidates
            .iter()
            .map(|c| CandidateResult {
                name: c.name.clone(),
                params: c.params.clone(),
                validation_rmse: c.validation_rmse,
                holdout: c.holdout,
                skill_vs_persistence: c.skill_vs_persistence,
                fit_seconds: c.fit_seconds,
            })
            .collect(),
        winner: report.winner().name.clone(),
        incumbent,
        artifact,
        export_check: trained.export_check,
        code_version: code_version(),
        seconds: elapsed.as_secs_f64(),
        request,
    }
}

async fn publish<T: edgeops_contracts::envelope::EventData>(
    js: &Context,
    cause: &EventMeta,
    run: &str,
    data: T,
    expected: u64,
) -> anyhow::Result<u64> {
    let event = EventEnvelope::new(RUN_AGGREGATE, run, actor(), data).caused_by(cause);
    Ok(edgeops_bus::publish_event(js, &event, Some(expected))
        .await?
        .sequence)
}

/// Tells the server every 15 s that the run is still being worked on (ack wait is 60 s).
fn keep_alive(message: &Message) -> CancellationToken {
    let token = CancellationToken::new();
    let stop = token.clone();
    let context = message.context.clone();
    let reply = message.reply.clone();
    tokio::spawn(async move {
        let Some(reply) = reply else { return };
        let mut every = tokio::time::interval(Duration::from_secs(15));
        every.tick().await;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = every.tick() => {
                    // The JetStream protocol's "work in progress" acknowledgement.
                    let payload = bytes::Bytes::from_static(b"+WPI");
                    if let Err(err) = context.client().publish(reply.clone(), payload).await {
                        tracing::debug!(error = %err, "progress ack failed");
                    }
                }
            }
        }
    });
    token
}
