//! Given/when/then: registration, metrics and signing. Promotion and archiving are in
//! `promotion`.

mod promotion;

use edgeops_artifacts::{SigningKeyPair, sign};

use super::decide;
use crate::domain::test_support::*;
use crate::domain::{
    Command, DomainError, GateFailed, ModelVersionEvent, ModelVersionState, ProdSummary,
    Registered, apply,
};
use edgeops_registry_api::{HoldoutMetrics, Stage};

fn registered() -> ModelVersionState {
    given(&[ModelVersionEvent::Registered(registration())])
}

fn scored(rmse: f64) -> ModelVersionState {
    run(
        registered(),
        Command::AttachMetrics {
            holdout_fingerprint: "hold-1".into(),
            metrics: metrics(rmse, 50.0),
        },
    )
}

#[test]
fn a_valid_registration_is_recorded_and_starts_in_dev() {
    let events = decide(
        &ModelVersionState::default(),
        Command::Register(registration()),
    )
    .unwrap();
    assert_eq!(events, [ModelVersionEvent::Registered(registration())]);
    let state = given(&events);
    assert_eq!(state.stage(), Some(Stage::Dev));
    assert_eq!(state.version().unwrap().key(), key());
}

#[test]
fn a_version_registers_once() {
    let err = decide(&registered(), Command::Register(registration())).unwrap_err();
    assert_eq!(err, DomainError::AlreadyRegistered { key: key() });
}

fn reference(name: &str) -> edgeops_contracts::monitoring::FeatureReference {
    edgeops_contracts::monitoring::FeatureReference {
        name: name.into(),
        edges: vec![450.0],
        shares: vec![0.5, 0.5],
        min: 400.0,
        max: 800.0,
        mean: 470.0,
        std: 40.0,
        rows: 100,
    }
}

#[test]
fn malformed_registrations_are_refused_with_the_reason() {
    type Spoil = fn(&mut Registered);
    let cases: [(&str, Spoil); 7] = [
        ("versions start at 1", |r| r.version = 0),
        ("one each, in input order", |r| {
            r.reference = vec![reference("co2_ppm_lag1"), reference("co2_ppm")]
        }),
        ("finite", |r| {
            r.reference = vec![reference("co2_ppm"), reference("co2_ppm_lag1")];
            r.reference[1].std = f64::NAN;
        }),
        ("sha256", |r| r.artifact.sha256 = "ABC".into()),
        ("distinct", |r| {
            r.feature_spec.inputs = vec!["a".into(), "a".into()]
        }),
        ("holdout", |r| r.holdout.rows = 0),
        ("horizon_bins", |r| r.horizon_bins = 0),
    ];
    for (expected, spoil) in cases {
        let mut r = registration();
        spoil(&mut r);
        let err = decide(&ModelVersionState::default(), Command::Register(r)).unwrap_err();
        assert!(
            matches!(&err, DomainError::InvalidRegistration { reason } if reason.contains(expected)),
            "{expected}: {err}"
        );
    }
}

#[test]
fn nothing_but_register_is_accepted_before_registration() {
    let err = decide(&ModelVersionState::default(), promote(Stage::Staging, 1)).unwrap_err();
    assert_eq!(err, DomainError::NotRegistered);
}

#[test]
fn events_before_registration_do_not_invent_a_version() {
    let state = given(&[ModelVersionEvent::GateFailed(GateFailed {
        to: Stage::Prod,
        gate: edgeops_registry_api::Gate::BeatsPersistence,
        reason: String::new(),
    })]);
    assert_eq!(state, ModelVersionState::Unregistered);
}

#[test]
fn metrics_on_the_registered_holdout_are_attached() {
    let command = Command::AttachMetrics {
        holdout_fingerprint: "hold-1".into(),
        metrics: metrics(40.0, 50.0),
    };
    let events = decide(&registered(), command).unwrap();
    assert!(matches!(
        &events[..],
        [ModelVersionEvent::MetricsAttached(_)]
    ));
    let state = events.iter().fold(registered(), apply);
    assert_eq!(state.version().unwrap().metrics, Some(metrics(40.0, 50.0)));
}

#[test]
fn metrics_from_another_holdout_are_refused() {
    let command = Command::AttachMetrics {
        holdout_fingerprint: "hold-2".into(),
        metrics: metrics(40.0, 50.0),
    };
    assert_eq!(
        decide(&registered(), command).unwrap_err(),
        DomainError::HoldoutMismatch {
            registered: "hold-1".into(),
            given: "hold-2".into()
        }
    );
}

#[test]
fn non_finite_metrics_are_refused() {
    let command = Command::AttachMetrics {
        holdout_fingerprint: "hold-1".into(),
        metrics: metrics(f64::NAN, 50.0),
    };
    assert!(matches!(
        decide(&registered(), command),
        Err(DomainError::InvalidMetrics { .. })
    ));
}

#[test]
fn metrics_are_attached_once() {
    let command = Command::AttachMetrics {
        holdout_fingerprint: "hold-1".into(),
        metrics: metrics(30.0, 50.0),
    };
    assert_eq!(
        decide(&scored(40.0), command).unwrap_err(),
        DomainError::MetricsAlreadyAttached
    );
}

#[test]
fn a_correct_signature_over_this_versions_manifest_is_recorded() {
    let state = scored(40.0);
    let events = decide(&state, sign_command(&state, &signing_key())).unwrap();
    let signed = events.iter().fold(state, apply);
    let manifest = &signed.version().unwrap().signed.as_ref().unwrap().manifest;
    assert_eq!(manifest.metrics.get("rmse"), Some(&40.0));
    assert_eq!(manifest.model, "co2-room");
}

#[test]
fn signing_needs_metrics() {
    let state = registered();
    let mut manifest = scored(40.0)
        .version()
        .unwrap()
        .manifest_to_sign(t(0))
        .unwrap();
    manifest.metrics.clear();
    let command = Command::SignManifest {
        signed: Box::new(sign(manifest, &signing_key()).unwrap()),
        signer: signing_key().public_key().clone(),
    };
    assert!(matches!(
        decide(&state, command),
        Err(DomainError::NoMetrics { .. })
    ));
}

#[test]
fn a_manifest_that_describes_something_else_is_refused_by_field() {
    let state = scored(40.0);
    let mut manifest = state.version().unwrap().manifest_to_sign(t(0)).unwrap();
    manifest.metrics.insert("rmse".into(), 1.0);
    let command = Command::SignManifest {
        signed: Box::new(sign(manifest, &signing_key()).unwrap()),
        signer: signing_key().public_key().clone(),
    };
    assert_eq!(
        decide(&state, command).unwrap_err(),
        DomainError::ManifestMismatch { field: "metrics" }
    );
}

#[test]
fn a_manifest_with_another_reference_is_refused() {
    let state = scored(40.0);
    let mut manifest = state.version().unwrap().manifest_to_sign(t(0)).unwrap();
    manifest.reference = vec![reference("co2_ppm"), reference("co2_ppm_lag1")];
    let command = Command::SignManifest {
        signed: Box::new(sign(manifest, &signing_key()).unwrap()),
        signer: signing_key().public_key().clone(),
    };
    assert_eq!(
        decide(&state, command).unwrap_err(),
        DomainError::ManifestMismatch { field: "reference" }
    );
}

#[test]
fn a_signature_must_be_the_signers_and_valid() {
    let state = scored(40.0);
    let other = SigningKeyPair::from_secret_bytes(&[6u8; 32]);
    let Command::SignManifest { signed, .. } = sign_command(&state, &other) else {
        unreachable!()
    };
    let wrong_signer = Command::SignManifest {
        signed: signed.clone(),
        signer: signing_key().public_key().clone(),
    };
    assert!(matches!(
        decide(&state, wrong_signer),
        Err(DomainError::SignerMismatch { .. })
    ));
    let mut forged = *signed;
    forged.key_id = signing_key().key_id().to_owned();
    let forged = Command::SignManifest {
        signed: Box::new(forged),
        signer: signing_key().public_key().clone(),
    };
    let err = decide(&state, forged).unwrap_err();
    assert!(matches!(err, DomainError::BadSignature(_)));
    assert!(err.to_string().contains("co2-room v3"), "{err}");
}
