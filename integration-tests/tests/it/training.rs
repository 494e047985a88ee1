//! Training end to end on the shipped data sets: readings reach the hub, preprocessing turns them
//! into feature rows, a run requested over NATS trains and judges candidates, and the winner's
//! ONNX model lands in the object store with its digest, and the registry turns it into a signed
//! version whose manifest verifies against those bytes. Bad requests fail with a reason.

use std::time::Duration;

use edgeops_bus::topology::PREPROCESSING_CONSUMER;
use edgeops_contracts::training::{
    RUN_AGGREGATE, RunAccepted, RunCommand, RunRequest, Scope, TrainingCompleted, TrainingFailed,
};
use edgeops_contracts::{EventEnvelope, SiteId, events::upcasters, streams, subjects};
use edgeops_integration_tests::services::{
    spawn_preprocessing_with_spec, spawn_registry, spawn_training,
};
use edgeops_integration_tests::{TestStack, check, wait_until};
use edgeops_registry_api::RegistryClient;
use edgeops_testkit::replay::{Dataset, Replay};
use uuid::Uuid;

/// Publishes a shipped data set to the hub as forwarded readings and waits until
/// preprocessing has turned all of them into feature rows.
pub async fn load_dataset(stack: &TestStack, dataset: Dataset) {
    let site = dataset.default_site();
    stack.register_sites(&[site]).await;
    let replay = Replay::embedded(dataset, SiteId::parse(site).unwrap()).unwrap();
    let js = stack.hub_js().await;
    let mut acks = Vec::new();
    for (raw_subject, payload) in replay.readings() {
        let subject = subjects::hub_subject_for_raw(&raw_subject).unwrap();
        acks.push(js.publish(subject, payload.into()).await.unwrap());
        if acks.len() == 2_000 {
            for ack in acks.drain(..) {
                ack.await.unwrap();
            }
        }
    }
    for ack in acks {
        ack.await.unwrap();
    }
    let stream = js.get_stream(streams::HUB_READINGS).await.unwrap();
    let total = stream.get_info().await.unwrap().state.messages;
    wait_until(
        "preprocessing to consume every reading",
        Duration::from_secs(300),
        || {
            let stream = stream.clone();
            async move {
                let info = stream
                    .consumer_info(PREPROCESSING_CONSUMER)
                    .await
                    .map_err(|e| e.to_string())?;
                let floor = info.ack_floor.stream_sequence;
                check(
                    floor == total && info.num_ack_pending == 0,
                    format!("{floor} of {total}"),
                )
            }
        },
    )
    .await;
}

pub async fn request_run(client: &async_nats::Client, request: RunRequest) -> Uuid {
    let command = RunCommand {
        request,
        actor: "test-operator".into(),
    };
    let payload = serde_json::to_vec(&command).unwrap();
    // The service may still be starting: no responders yet is worth another try.
    let reply = wait_until("training to answer", Duration::from_secs(30), || {
        let (client, payload) = (client.clone(), payload.clone());
        async move {
            let endpoint = subjects::service_endpoint("training", "request");
            Ok(client.request(endpoint, payload.into()).await.ok())
        }
    })
    .await;
    serde_json::from_slice::<RunAccepted>(&reply.payload)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&reply.payload)))
        .run
}

pub enum Finished {
    Completed(Box<TrainingCompleted>),
    Failed(TrainingFailed),
}

/// Waits for the run's `completed` or `failed` event.
pub async fn finished(stack: &TestStack, run: Uuid) -> Finished {
    let js = stack.hub_js().await;
    let subject = subjects::aggregate_events(RUN_AGGREGATE, &run.to_string());
    wait_until("the run to finish", Duration::from_secs(300), || {
        let (js, subject) = (js.clone(), subject.clone());
        async move {
            let events = edgeops_bus::read_subject(&js, streams::EVENTS, &subject)
                .await
                .map_err(|e| e.to_string())?;
            for (_, bytes) in &events {
                let envelope =
                    EventEnvelope::decode(bytes, &upcasters()).map_err(|e| e.to_string())?;
                match envelope.meta.event_type.as_str() {
                    "training.completed" => {
                        let done = envelope
                            .into_typed::<TrainingCompleted>()
                            .map_err(|e| e.to_string())?;
                        return Ok(Some(Finished::Completed(Box::new(done.data))));
                    }
                    "training.failed" => {
                        let failed = envelope
                            .into_typed::<TrainingFailed>()
                            .map_err(|e| e.to_string())?;
                        return Ok(Some(Finished::Failed(failed.data)));
                    }
                    _ => {}
                }
            }
            Ok(None)
        }
    })
    .await
}

pub fn beijing_request(model: &str) -> RunRequest {
    RunRequest {
        model: model.into(),
        scope: Scope::parse("site:beijing").unwrap(),
        spec: "outdoor_pm25".into(),
        from: None,
        to: None,
        horizon_bins: 6,
    }
}

async fn object_bytes(stack: &TestStack, done: &TrainingCompleted) -> Vec<u8> {
    edgeops_training::read_object(&stack.hub_js().await, &done.artifact)
        .await
        .unwrap()
}

/// The run's model is version 1 of its name in the registry: signed, staged (it beats
/// persistence), with the run as its lineage, and its manifest, carrying the run's reference of
/// the training rows, verifies against `onnx`.
async fn registered_and_verified(stack: &TestStack, done: &TrainingCompleted, onnx: &[u8]) {
    let registry = RegistryClient::new(stack.hub_client().await);
    let model = &done.request.model;
    let detail = crate::registry::fixtures::registered(&registry, model, 1).await;
    assert_eq!(detail.lineage.training_run, done.run);
    assert_eq!(detail.lineage.dataset_fingerprint, done.dataset.id());
    assert_eq!(detail.artifact.sha256, done.artifact.artifact.sha256);
    assert_eq!(detail.summary.stage, edgeops_registry_api::Stage::Staging);
    let names: Vec<&String> = done.reference.iter().map(|r| &r.name).collect();
    assert_eq!(names, done.feature_names.iter().collect::<Vec<_>>());
    assert!(
        done.reference
            .iter()
            .all(|r| r.rows == done.train_rows as u64),
        "the reference is of the training rows, not the holdout"
    );
    let signed = registry.manifest(model, 1).await.unwrap();
    assert_eq!(signed.manifest.reference, done.reference);
    edgeops_artifacts::verify(&signed, onnx, &crate::registry::fixtures::trusted()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beijing_trains_to_an_onnx_model_that_beats_persistence_by_ten_percent() {
    let stack = TestStack::start(&[]).await;
    let preprocessing = spawn_preprocessing_with_spec(&stack, "outdoor_pm25");
    load_dataset(&stack, Dataset::Beijing).await;
    let training = spawn_training(&stack);
    let registry = spawn_registry(&stack);
    let client = stack.hub_client().await;
    let run = request_run(&client, beijing_request("pm25-6h")).await;
    let Finished::Completed(done) = finished(&stack, run).await else {
        panic!("the Beijing run failed");
    };
    let winner = done.winner().unwrap();
    assert!(
        winner.skill_vs_persistence >= 0.10,
        "{} removes only {:.1}% of persistence's RMSE",
        winner.name,
        winner.skill_vs_persistence * 100.0
    );
    assert_eq!(done.candidates.len(), 2, "ridge and boosted trees");
    for candidate in &done.candidates {
        let skill = 1.0 - candidate.holdout.rmse / done.persistence.rmse;
        assert!((candidate.skill_vs_persistence - skill).abs() < 1e-9);
    }
    assert!(
        done.seasonal_naive.is_some(),
        "hourly data have a daily cycle"
    );
    assert!(done.export_check.rows == done.holdout_rows && done.export_check.max_abs_diff < 0.05);
    assert_eq!(
        done.dataset.spec_version,
        edgeops_features::FeatureSpec::outdoor_pm25().version
    );
    let onnx = object_bytes(&stack, &done).await;
    assert_eq!(
        edgeops_artifacts::sha256_hex(&onnx),
        done.artifact.artifact.sha256
    );
    let model = edgeops_inference::Model::load(&onnx).unwrap();
    assert_eq!(model.feature_count(), done.feature_names.len());
    assert_eq!(model.metadata()["edgeops.training_run"], run.to_string());
    registered_and_verified(&stack, &done, &onnx).await;
    registry.shutdown().await;
    training.shutdown().await;
    preprocessing.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parking_trains_per_site_and_bad_runs_fail_with_a_reason() {
    let stack = TestStack::start(&[]).await;
    let preprocessing = spawn_preprocessing_with_spec(&stack, "parking_occupancy");
    load_dataset(&stack, Dataset::Parking).await;
    let training = spawn_training(&stack);
    let registry = spawn_registry(&stack);
    let client = stack.hub_client().await;
    let parking = RunRequest {
        model: "occupancy-30min".into(),
        scope: Scope::parse("site:birmingham").unwrap(),
        spec: "parking_occupancy".into(),
        from: None,
        to: None,
        horizon_bins: 1,
    };
    let at = |text: &str| Some(text.parse().unwrap());
    let bad = [
        (
            RunRequest {
                from: at("1990-01-01T00:00:00Z"),
                to: at("1990-02-01T00:00:00Z"),
                ..parking.clone()
            },
            "no_rows",
        ),
        (
            RunRequest {
                scope: Scope::parse("device:birmingham:no-such-car-park").unwrap(),
                ..parking.clone()
            },
            "no_rows",
        ),
        (
            RunRequest {
                scope: Scope::parse("device:birmingham:BHMBCCMKT01").unwrap(),
                from: at("2016-11-01T00:00:00Z"),
                to: at("2016-11-03T00:00:00Z"),
                ..parking.clone()
            },
            "too_few_rows",
        ),
    ];
    for (request, code) in bad {
        let run = request_run(&client, request).await;
        let Finished::Failed(failed) = finished(&stack, run).await else {
            panic!("a bad run completed; expected {code}");
        };
        assert_eq!(failed.code, code, "{}", failed.reason);
        assert!(!failed.reason.is_empty());
    }
    // A device whose rows all lack one feature.
    let pool = stack.pool().await;
    let width = edgeops_features::FeatureSpec::parking_occupancy()
        .names()
        .len() as i32;
    sqlx::query(
        "INSERT INTO preprocessing.features
         SELECT 'birmingham', 'broken', 'parking_occupancy', $2,
                '2016-11-01'::timestamptz + make_interval(mins => 30 * i),
                array_fill(1.0::float8, ARRAY[$1]) || ARRAY['NaN'::float8], false
         FROM generate_series(0, 999) AS i",
    )
    .bind(width - 1)
    .bind(edgeops_features::FeatureSpec::parking_occupancy().version as i32)
    .execute(&pool)
    .await
    .unwrap();
    let nan = request_run(
        &client,
        RunRequest {
            scope: Scope::parse("device:birmingham:broken").unwrap(),
            ..parking.clone()
        },
    )
    .await;
    let Finished::Failed(failed) = finished(&stack, nan).await else {
        panic!("a run on all-NaN rows completed");
    };
    assert_eq!(failed.code, "feature_always_missing", "{}", failed.reason);

    // A malformed request is answered with an error, not a run.
    let reply = client
        .request(
            subjects::service_endpoint("training", "request"),
            br#"{"model":"x","spec":"nope"}"#.to_vec().into(),
        )
        .await
        .unwrap();
    assert!(
        reply
            .headers
            .is_some_and(|h| h.get("Nats-Service-Error-Code").is_some())
    );

    // The service still serves: the whole car-park site trains.
    let run = request_run(&client, parking).await;
    let Finished::Completed(done) = finished(&stack, run).await else {
        panic!("the parking run failed");
    };
    assert!(done.train_rows > 1_000, "{} training rows", done.train_rows);
    let onnx = object_bytes(&stack, &done).await;
    assert_eq!(
        edgeops_artifacts::sha256_hex(&onnx),
        done.artifact.artifact.sha256
    );
    registered_and_verified(&stack, &done, &onnx).await;
    registry.shutdown().await;
    training.shutdown().await;
    preprocessing.shutdown().await;
}
