//! What the registry tests feed it and how they wait on it: synthetic `training.completed`
//! events (with artifact bytes really in the model object store), and waits on the consumers
//! and the projection.

use std::time::Duration;

use async_nats::jetstream::{Context, object_store};
use chrono::{TimeZone, Utc};
use edgeops_artifacts::TrustedKeys;
use edgeops_bus::topology::{
    REGISTRY_COMPLETIONS_CONSUMER, REGISTRY_PROJECTION_CONSUMER, hub_topology,
};
use edgeops_contracts::manifest::ArtifactRef;
use edgeops_contracts::training::{
    CandidateResult, DatasetFingerprint, ExportCheck, IncumbentResult, RUN_AGGREGATE, RunRequest,
    Scope, Scores, StoredArtifact, TrainingCompleted,
};
use edgeops_contracts::{Actor, EventEnvelope, streams};
use edgeops_eventsourcing::{EventStore, decode};
use edgeops_integration_tests::services::registry_test_key;
use edgeops_integration_tests::{check, wait_until};
use edgeops_registry::domain::ModelVersionKey;
use edgeops_registry::domain::ModelVersionState;
use edgeops_registry_api::PromoteRequest;
use edgeops_registry_api::RegistryClient;
use edgeops_registry_api::VersionDetail;
use edgeops_registry_api::{ModelName, Stage};
use uuid::Uuid;

pub async fn provision(js: &Context) {
    edgeops_bus::provision(js, &hub_topology(&Default::default()))
        .await
        .unwrap();
}

/// Stores `bytes` as the run's model, as training does, and returns their reference.
pub async fn put_artifact(js: &Context, model: &str, run: Uuid, bytes: &[u8]) -> StoredArtifact {
    let bucket = js.get_object_store(streams::MODELS_BUCKET).await.unwrap();
    let name = format!("{model}/{run}.onnx");
    let mut reader = bytes;
    bucket
        .put(
            object_store::ObjectMetadata {
                name: name.clone(),
                ..Default::default()
            },
            &mut reader,
        )
        .await
        .unwrap();
    StoredArtifact {
        bucket: streams::MODELS_BUCKET.into(),
        artifact: ArtifactRef::of(name, bytes),
    }
}

fn scores(rmse: f64) -> Scores {
    Scores {
        rmse,
        mae: rmse * 0.8,
        mase: rmse / 50.0,
        rows: 400,
    }
}

/// What a run names its holdout metrics and incumbent with.
pub struct Scored {
    pub rmse: f64,
    pub persistence: f64,
    pub holdout: &'static str,
    /// (prod version, its rmse on this holdout), as training measures it.
    pub incumbent: Option<(u32, f64)>,
}

/// A completed run of `model` for site `s1`, its winner scoring `scored`.
pub fn completion(
    model: &str,
    run: Uuid,
    scored: &Scored,
    artifact: StoredArtifact,
) -> TrainingCompleted {
    let scope = Scope::parse("site:s1").unwrap();
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap();
    TrainingCompleted {
        run,
        request: RunRequest {
            model: model.into(),
            scope: scope.clone(),
            spec: "indoor_air".into(),
            from: None,
            to: None,
            horizon_bins: 6,
        },
        dataset: DatasetFingerprint {
            scope,
            from: None,
            to: None,
            spec_name: "indoor_air".into(),
            spec_version: 2,
            horizon_bins: 6,
            rows: 2_000,
            content_sha256: edgeops_artifacts::sha256_hex(run.as_bytes()),
        },
        feature_names: vec!["co2_ppm".into(), "co2_ppm_lag1".into(), "hour_sin".into()],
        holdout_fingerprint: scored.holdout.into(),
        holdout_from: at,
        train_rows: 1_600,
        holdout_rows: 400,
        persistence: scores(scored.persistence),
        seasonal_naive: Some(scores(scored.persistence * 1.2)),
        candidates: vec![CandidateResult {
            name: "ridge".into(),
            params: serde_json::json!({"alpha": 1.0}),
            validation_rmse: scored.rmse,
            holdout: scores(scored.rmse),
            skill_vs_persistence: 1.0 - scored.rmse / scored.persistence,
            fit_seconds: 0.1,
        }],
        winner: "ridge".into(),
        incumbent: scored.incumbent.map(|(version, rmse)| IncumbentResult {
            model: model.into(),
            version,
            holdout: scores(rmse),
        }),
        artifact,
        export_check: ExportCheck {
            rows: 400,
            max_abs_diff: 1e-6,
            tolerance: 0.05,
        },
        code_version: "edgeops-training 0.1.0 (test)".into(),
        seconds: 1.5,
        reference: Vec::new(),
    }
}

/// Publishes the completion as training would, on the run's subject.
pub async fn publish_completion(js: &Context, done: &TrainingCompleted) {
    let event = EventEnvelope::new(
        RUN_AGGREGATE,
        &done.run.to_string(),
        Actor::Service("training".into()),
        done.clone(),
    );
    edgeops_bus::publish_event(js, &event, None).await.unwrap();
}

/// Stores `bytes` and publishes a completion of a new run for them; returns the run.
pub async fn train(js: &Context, model: &str, scored: &Scored) -> TrainingCompleted {
    let run = Uuid::now_v7();
    let bytes = format!("onnx bytes of {model} run {run}");
    let artifact = put_artifact(js, model, run, bytes.as_bytes()).await;
    let done = completion(model, run, scored, artifact);
    publish_completion(js, &done).await;
    done
}

/// Waits until a durable consumer has nothing left to deliver or settle.
pub async fn drained(js: &Context, durable: &str) {
    let stream = js.get_stream(streams::EVENTS).await.unwrap();
    wait_until(
        &format!("{durable} to drain"),
        Duration::from_secs(60),
        || {
            let stream = stream.clone();
            async move {
                let info = stream
                    .consumer_info(durable)
                    .await
                    .map_err(|e| e.to_string())?;
                check(
                    info.num_pending == 0 && info.num_ack_pending == 0,
                    format!(
                        "{} pending, {} unacked",
                        info.num_pending, info.num_ack_pending
                    ),
                )
            }
        },
    )
    .await;
}

/// Waits until every completion is handled and every resulting event is in the projection.
pub async fn settled(js: &Context) {
    drained(js, REGISTRY_COMPLETIONS_CONSUMER).await;
    drained(js, REGISTRY_PROJECTION_CONSUMER).await;
}

/// Waits until the version is in the projection and `done` holds for it.
pub async fn version_when(
    client: &RegistryClient,
    model: &str,
    version: u32,
    what: &str,
    done: impl Fn(&VersionDetail) -> bool,
) -> VersionDetail {
    wait_until(what, Duration::from_secs(60), || {
        let detail = client.version(model, version);
        let done = &done;
        async move {
            match detail.await {
                Ok(detail) if done(&detail) => Ok(Some(detail)),
                Ok(detail) => Err(format!(
                    "{:?} since {:?}",
                    detail.summary.stage, detail.summary.stage_since
                )),
                Err(err) => Err(err.to_string()),
            }
        }
    })
    .await
}

/// Registered, scored, signed, and through auto-staging (moved, or refused on record).
pub async fn registered(client: &RegistryClient, model: &str, version: u32) -> VersionDetail {
    version_when(
        client,
        model,
        version,
        "the version to be registered",
        |d| d.summary.signed && (!d.stage_history.is_empty() || !d.gate_failures.is_empty()),
    )
    .await
}

/// Registered, scored and signed (registries without auto-staging stop there).
pub async fn signed(client: &RegistryClient, model: &str, version: u32) -> VersionDetail {
    version_when(client, model, version, "the version to be signed", |d| {
        d.summary.signed
    })
    .await
}

pub const GOOD: Scored = Scored {
    rmse: 40.0,
    persistence: 50.0,
    holdout: "hold-1",
    incumbent: None,
};

pub fn promote(model: &str, version: u32, to: Stage, actor: &str) -> PromoteRequest {
    PromoteRequest {
        model: model.into(),
        version,
        to,
        actor: actor.into(),
    }
}

pub fn trusted() -> TrustedKeys {
    TrustedKeys::from_keys([registry_test_key().public_key().clone()])
}

/// The event types stored on one version's subject, in order.
pub async fn version_events(
    js: &async_nats::jetstream::Context,
    model: &str,
    version: u32,
) -> Vec<String> {
    let key = ModelVersionKey {
        model: ModelName::parse(model).unwrap(),
        version,
    };
    let subject = EventStore::<ModelVersionState>::subject(&key.aggregate_id());
    assert_eq!(
        subject,
        format!("edgeops.events.model_version.{model}.{version}")
    );
    edgeops_bus::read_subject(js, streams::EVENTS, &subject)
        .await
        .unwrap()
        .iter()
        .map(|(_, bytes)| decode::<ModelVersionState>(bytes).unwrap().0.event_type)
        .collect()
}
