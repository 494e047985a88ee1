//! Completed runs become signed versions that verify; duplicates and redeliveries register once.

use edgeops_artifacts::{SignedManifest, TrustedKeys, VerifyError, sha256_hex, verify};
use edgeops_bus::topology::REGISTRY_COMPLETIONS_CONSUMER;
use edgeops_contracts::training::{RUN_AGGREGATE, TrainingStarted};
use edgeops_contracts::{Actor, DeadLetter, EventEnvelope, streams, subjects};
use edgeops_integration_tests::TestStack;
use edgeops_integration_tests::services::{registry_test_key, spawn_registry};
use edgeops_registry::domain::ModelVersionKey;
use edgeops_registry_api::RegistryClient;
use edgeops_registry_api::{ModelName, Stage};
use uuid::Uuid;

use super::fixtures::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_turns_a_completed_run_into_a_signed_version_that_verifies_until_altered() {
    let stack = TestStack::start(&[]).await;
    let js = stack.hub_js().await;
    provision(&js).await;
    let registry = spawn_registry(&stack);
    let client = RegistryClient::new(stack.hub_client().await);

    // Other events of runs are none of the registry's business; malformed completions are
    // dead-lettered with a reason instead of stopping it.
    let training = || Actor::Service("training".into());
    let other = Uuid::now_v7();
    let started = EventEnvelope::new(
        RUN_AGGREGATE,
        &other.to_string(),
        training(),
        TrainingStarted { run: other },
    );
    edgeops_bus::publish_event(&js, &started, None)
        .await
        .unwrap();
    let broken = Uuid::now_v7();
    let mut not_a_completion = EventEnvelope::new(
        RUN_AGGREGATE,
        &broken.to_string(),
        training(),
        TrainingStarted { run: broken },
    );
    not_a_completion.meta.event_type = "training.completed".into();
    edgeops_bus::publish_event(&js, &not_a_completion, None)
        .await
        .unwrap();
    let spare = Uuid::now_v7();
    let artifact = put_artifact(&js, "co2-room", spare, b"never registered").await;
    let mut no_winner = completion("co2-room", spare, &GOOD, artifact);
    no_winner.winner = "lstm".into();
    publish_completion(&js, &no_winner).await;

    let bytes = b"\x08\x07\x12\x07edgeops small onnx model for co2-room".to_vec();
    let run = Uuid::now_v7();
    let artifact = put_artifact(&js, "co2-room", run, &bytes).await;
    let done = completion("co2-room", run, &GOOD, artifact);
    publish_completion(&js, &done).await;

    // Refused before a number was spent on it: the good run is v1.
    let detail = registered(&client, "co2-room", 1).await;
    assert_eq!(
        detail.summary.stage,
        Stage::Staging,
        "auto-staged: it beats persistence"
    );
    assert_eq!(detail.lineage.training_run, run);
    assert_eq!(detail.lineage.dataset_fingerprint, done.dataset.id());
    assert_eq!(detail.lineage.code_version, done.code_version);
    assert_eq!(detail.feature_spec.inputs, done.feature_names);
    let metrics = detail.metrics.clone().unwrap();
    assert_eq!(
        (metrics.candidate.rmse, metrics.persistence.rmse),
        (40.0, 50.0)
    );
    assert_eq!(
        detail.signer_key_id.as_deref(),
        Some(registry_test_key().key_id())
    );
    assert_eq!(
        detail.stage_history[0].actor,
        Actor::Service("registry".into())
    );
    settled(&js).await;
    assert_eq!(client.versions("co2-room").await.unwrap().len(), 1);
    assert_eq!(
        version_events(&js, "co2-room", 1).await,
        [
            "model_version.registered",
            "model_version.metrics_attached",
            "model_version.manifest_signed",
            "model_version.stage_changed"
        ]
    );
    let mut refused: Vec<(String, String)> = stack
        .hub_messages(streams::DEAD_LETTERS)
        .await
        .iter()
        .map(|(_, payload)| {
            let envelope =
                EventEnvelope::decode(payload, &edgeops_contracts::events::upcasters()).unwrap();
            let letter = envelope.into_typed::<DeadLetter>().unwrap().data;
            assert_eq!(letter.consumer, REGISTRY_COMPLETIONS_CONSUMER);
            (letter.reason.code.to_string(), letter.reason.detail)
        })
        .collect();
    refused.sort();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert_eq!(refused[0].0, "out_of_range");
    assert!(refused[0].1.contains("lstm"), "{}", refused[0].1);
    assert_eq!(refused[1].0, "wrong_type");

    // The manifest verifies against the registry's public key, with the stored bytes...
    let signed = client.manifest("co2-room", 1).await.unwrap();
    let stored = edgeops_training::read_object(&js, &done.artifact)
        .await
        .unwrap();
    assert_eq!(stored, bytes);
    verify(&signed, &stored, &trusted()).unwrap();
    assert_eq!(
        (signed.manifest.model.as_str(), signed.manifest.version),
        ("co2-room", 1)
    );
    assert_eq!(signed.manifest.lineage.training_run, run);
    // ...and stops verifying when a byte, the digest or the signature is altered.
    let mut altered = stored.clone();
    altered[5] ^= 0x01;
    assert!(matches!(
        verify(&signed, &altered, &trusted()),
        Err(VerifyError::DigestMismatch { .. })
    ));
    let mut forged = signed.clone();
    forged.manifest.artifact.sha256 = sha256_hex(&altered);
    assert!(matches!(
        verify(&forged, &altered, &trusted()),
        Err(VerifyError::BadSignature { .. })
    ));
    let mut tampered: SignedManifest = signed.clone();
    let first = if tampered.signature.starts_with('A') {
        "B"
    } else {
        "A"
    };
    tampered.signature.replace_range(0..1, first);
    assert!(matches!(
        verify(&tampered, &stored, &trusted()),
        Err(VerifyError::BadSignature { .. })
    ));
    let stranger = edgeops_artifacts::SigningKeyPair::from_secret_bytes(&[7; 32]);
    assert!(matches!(
        verify(
            &signed,
            &stored,
            &TrustedKeys::from_keys([stranger.public_key().clone()])
        ),
        Err(VerifyError::UnknownKey { .. })
    ));
    registry.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_registers_one_version_per_run_whatever_is_delivered_twice() {
    use edgeops_eventsourcing::{EventStore, Loaded, Provenance};
    use edgeops_registry::domain::{Allocations, ModelVersionEvent, VersionAllocated, proposal};
    use edgeops_registry::versions;

    let stack = TestStack::start(&[]).await;
    let js = stack.hub_js().await;
    provision(&js).await;
    let model = ModelName::parse("co2-room").unwrap();
    let registry_actor = Actor::Service("registry".into());
    // Run A's completion is published twice (a retry after the duplicate window).
    let run_a = Uuid::now_v7();
    let a = completion(
        "co2-room",
        run_a,
        &GOOD,
        put_artifact(&js, "co2-room", run_a, b"model a").await,
    );
    publish_completion(&js, &a).await;
    publish_completion(&js, &a).await;
    // An earlier attempt at run B allocated v1 and registered it, then crashed.
    let run_b = Uuid::now_v7();
    let b = completion(
        "co2-room",
        run_b,
        &GOOD,
        put_artifact(&js, "co2-room", run_b, b"model b").await,
    );
    let allocation = VersionAllocated {
        version: 1,
        run: run_b,
    };
    EventStore::<Allocations>::new(js.clone())
        .append(
            model.as_str(),
            &Loaded::default(),
            &[allocation],
            &Provenance::by(&registry_actor),
        )
        .await
        .unwrap();
    let key = ModelVersionKey {
        model: model.clone(),
        version: 1,
    };
    let registered_b = ModelVersionEvent::Registered(proposal(&b, 1).unwrap().registered);
    versions(&js)
        .append(
            &key.aggregate_id(),
            &Loaded::default(),
            &[registered_b],
            &Provenance::by(&registry_actor),
        )
        .await
        .unwrap();
    publish_completion(&js, &b).await;

    let registry = spawn_registry(&stack);
    let client = RegistryClient::new(stack.hub_client().await);
    publish_completion(&js, &a).await;
    settled(&js).await;
    let v1 = registered(&client, "co2-room", 1).await;
    let v2 = registered(&client, "co2-room", 2).await;
    assert_eq!(
        v1.lineage.training_run, run_b,
        "B resumed with the version it had"
    );
    assert_eq!(v2.lineage.training_run, run_a);
    let full = [
        "model_version.registered",
        "model_version.metrics_attached",
        "model_version.manifest_signed",
        "model_version.stage_changed",
    ];
    assert_eq!(version_events(&js, "co2-room", 1).await, full);
    assert_eq!(version_events(&js, "co2-room", 2).await, full);

    // Once more after a restart: still two versions, and not one event more.
    registry.shutdown().await;
    publish_completion(&js, &a).await;
    publish_completion(&js, &b).await;
    let registry = spawn_registry(&stack);
    settled(&js).await;
    assert_eq!(client.versions("co2-room").await.unwrap().len(), 2);
    let allocations = edgeops_bus::read_subject(
        &js,
        streams::EVENTS,
        &subjects::aggregate_events("model", "co2-room"),
    )
    .await
    .unwrap();
    assert_eq!(allocations.len(), 2, "one number per run");
    assert_eq!(version_events(&js, "co2-room", 1).await, full);
    assert_eq!(version_events(&js, "co2-room", 2).await, full);
    registry.shutdown().await;
}
