use edgeops_contracts::manifest::ArtifactRef;
use edgeops_contracts::training::{
    CandidateResult, DatasetFingerprint, ExportCheck, IncumbentResult, RunRequest,
    Scope as TrainingScope, StoredArtifact,
};
use uuid::Uuid;

use super::*;
use crate::domain::test_support::{metrics, run, sign_command, signing_key, t};
use crate::domain::{GateFailed, ManifestSigned, MetricsAttached, StageChanged, apply};
use edgeops_registry_api::Gate;

fn scores(rmse: f64) -> Scores {
    Scores {
        rmse,
        mae: rmse * 0.8,
        mase: 0.9,
        rows: 500,
    }
}

fn completed() -> TrainingCompleted {
    let scope = TrainingScope::parse("site:s1").unwrap();
    TrainingCompleted {
        run: Uuid::from_u128(7),
        request: RunRequest {
            model: "co2-room".into(),
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
            content_sha256: "d".repeat(64),
        },
        feature_names: vec!["co2_ppm".into(), "co2_ppm_lag1".into()],
        holdout_fingerprint: "hold-1".into(),
        holdout_from: t(0),
        train_rows: 1_500,
        holdout_rows: 500,
        persistence: scores(50.0),
        seasonal_naive: Some(scores(60.0)),
        candidates: vec![
            CandidateResult {
                name: "ridge".into(),
                params: serde_json::json!({}),
                validation_rmse: 45.0,
                holdout: scores(44.0),
                skill_vs_persistence: 0.12,
                fit_seconds: 0.1,
            },
            CandidateResult {
                name: "gbt".into(),
                params: serde_json::json!({}),
                validation_rmse: 41.0,
                holdout: scores(40.0),
                skill_vs_persistence: 0.2,
                fit_seconds: 1.0,
            },
        ],
        winner: "gbt".into(),
        incumbent: Some(IncumbentResult {
            model: "co2-room".into(),
            version: 2,
            holdout: scores(42.0),
        }),
        artifact: StoredArtifact {
            bucket: MODELS_BUCKET.into(),
            artifact: ArtifactRef {
                object_name: "co2-room/7.onnx".into(),
                sha256: "a".repeat(64),
                size_bytes: 123,
            },
        },
        export_check: ExportCheck {
            rows: 500,
            max_abs_diff: 0.0,
            tolerance: 0.05,
        },
        code_version: "edgeops-training 0.1.0 (abc)".into(),
        seconds: 2.0,
        reference: Vec::new(),
    }
}

#[test]
fn the_winner_is_what_gets_registered_with_its_lineage() {
    let done = completed();
    let p = proposal(&done, 3).unwrap();
    let r = &p.registered;
    assert_eq!((r.model.as_str(), r.version), ("co2-room", 3));
    assert_eq!(r.scope.to_string(), "site:s1");
    assert_eq!(r.lineage.training_run, done.run);
    assert_eq!(r.lineage.dataset_fingerprint, done.dataset.id());
    assert_eq!(r.lineage.code_version, done.code_version);
    assert_eq!(r.feature_spec.inputs, done.feature_names);
    assert_eq!(
        (r.holdout.fingerprint.as_str(), r.holdout.rows),
        ("hold-1", 500)
    );
    assert_eq!(
        p.metrics.candidate.rmse, 40.0,
        "the winner, not the first candidate"
    );
    assert_eq!(p.metrics.persistence.rmse, 50.0);
    assert_eq!(
        p.metrics.incumbent,
        Some(IncumbentScore {
            version: 2,
            rmse: 42.0
        })
    );
    assert_eq!(precheck(&done), Ok(()));
}

#[test]
fn runs_that_could_never_register_are_refused_before_a_number_is_spent() {
    type Spoil = fn(&mut TrainingCompleted);
    let cases: [(&str, Spoil); 5] = [
        ("model name", |d| d.request.model = "co2 room".into()),
        ("winner", |d| d.winner = "lstm".into()),
        ("bucket", |d| d.artifact.bucket = "elsewhere".into()),
        ("sha256", |d| {
            d.artifact.artifact.sha256 = "not-a-digest".into()
        }),
        ("holdout", |d| d.holdout_rows = 0),
    ];
    for (expected, spoil) in cases {
        let mut done = completed();
        spoil(&mut done);
        let err = precheck(&done).unwrap_err();
        assert!(err.contains(expected), "{expected}: {err}");
    }
}

#[test]
fn an_undefined_mase_is_left_out_not_invented() {
    let mut done = completed();
    done.candidates[1].holdout.mase = f64::INFINITY;
    assert_eq!(proposal(&done, 1).unwrap().metrics.candidate.mase, None);
}

#[test]
fn registration_steps_resume_from_what_the_stream_holds() {
    let p = proposal(&completed(), 3).unwrap();
    let mut events = vec![];
    let fold =
        |events: &[ModelVersionEvent]| events.iter().fold(ModelVersionState::default(), apply);
    assert_eq!(next_step(&fold(&events), &events, true), Step::Register);
    events.push(ModelVersionEvent::Registered(p.registered.clone()));
    assert_eq!(
        next_step(&fold(&events), &events, true),
        Step::AttachMetrics
    );
    events.push(ModelVersionEvent::MetricsAttached(MetricsAttached {
        holdout_fingerprint: "hold-1".into(),
        metrics: metrics(40.0, 50.0),
    }));
    assert_eq!(next_step(&fold(&events), &events, true), Step::Sign);
    let manifest = fold(&events)
        .version()
        .unwrap()
        .manifest_to_sign(t(1))
        .unwrap();
    events.push(ModelVersionEvent::ManifestSigned(ManifestSigned {
        signed: edgeops_artifacts::sign(manifest, &signing_key()).unwrap(),
    }));
    assert_eq!(next_step(&fold(&events), &events, true), Step::AutoStage);
    assert_eq!(next_step(&fold(&events), &events, false), Step::Done);

    let mut refused = events.clone();
    refused.push(ModelVersionEvent::GateFailed(GateFailed {
        to: Stage::Staging,
        gate: Gate::BeatsPersistence,
        reason: "r".into(),
    }));
    assert_eq!(
        next_step(&fold(&refused), &refused, true),
        Step::Done,
        "tried once"
    );
    events.push(ModelVersionEvent::StageChanged(StageChanged {
        from: Stage::Dev,
        to: Stage::Archived,
        actor: edgeops_contracts::Actor::User("ops".into()),
        reason: "withdrawn".into(),
        at: t(2),
    }));
    assert_eq!(next_step(&fold(&events), &events, true), Step::Done);
}

fn reference_of(name: &str, shift: f64) -> edgeops_contracts::monitoring::FeatureReference {
    edgeops_contracts::monitoring::FeatureReference {
        name: name.into(),
        edges: vec![400.0 + shift, 500.0 + shift],
        shares: vec![0.4, 0.35, 0.25],
        min: 380.0 + shift,
        max: 900.0 + shift,
        mean: 480.0 + shift,
        std: 60.0,
        rows: 1_500,
    }
}

#[test]
fn the_runs_reference_is_registered_and_signed_into_the_manifest() {
    let mut done = completed();
    done.reference = vec![
        reference_of("co2_ppm", 0.0),
        reference_of("co2_ppm_lag1", 1.0),
    ];
    let p = proposal(&done, 3).unwrap();
    assert_eq!(p.registered.reference, done.reference);
    let state = run(
        ModelVersionState::default(),
        Command::Register(p.registered),
    );
    let state = run(
        state,
        Command::AttachMetrics {
            holdout_fingerprint: "hold-1".into(),
            metrics: p.metrics,
        },
    );
    let command = sign_command(&state, &signing_key());
    let state = run(state, command);
    let signed = state.version().unwrap().signed.clone().unwrap();
    assert_eq!(signed.manifest.reference, done.reference);
    let trusted = edgeops_artifacts::TrustedKeys::from_keys([signing_key().public_key().clone()]);
    assert!(edgeops_artifacts::verify_manifest(&signed, &trusted).is_ok());
}

#[test]
fn a_registration_stored_before_references_loads_with_none() {
    let registered = proposal(&completed(), 3).unwrap().registered;
    let stored = serde_json::to_value(&registered).unwrap();
    assert!(
        stored.get("reference").is_none(),
        "an empty reference is not written"
    );
    let read: Registered = serde_json::from_value(stored).unwrap();
    assert_eq!(read, registered);
    assert!(read.reference.is_empty());

    let mut done = completed();
    done.reference = vec![
        reference_of("co2_ppm", 0.0),
        reference_of("co2_ppm_lag1", 1.0),
    ];
    let with_reference = proposal(&done, 3).unwrap().registered;
    let read: Registered =
        serde_json::from_value(serde_json::to_value(&with_reference).unwrap()).unwrap();
    assert_eq!(read, with_reference);
}
