//! Fixtures shared by the domain's tests: one valid registration and helpers around it.

use chrono::{DateTime, Utc};
use edgeops_artifacts::{ArtifactRef, FeatureSpecRef, Lineage, SigningKeyPair, sha256_hex, sign};
use edgeops_contracts::Actor;

use crate::domain::commands::Command;
use crate::domain::events::{ModelVersionEvent, Registered};
use crate::domain::names::ModelVersionKey;
use crate::domain::state::{ModelVersionState, apply};
use edgeops_registry_api::Stage;
use edgeops_registry_api::metrics::{BaselineScores, CandidateScores, Holdout, HoldoutMetrics};
use edgeops_registry_api::{ModelName, Scope};

pub fn holdout() -> Holdout {
    Holdout {
        fingerprint: "hold-1".into(),
        rows: 2016,
    }
}

pub fn metrics(rmse: f64, persistence_rmse: f64) -> HoldoutMetrics {
    HoldoutMetrics {
        candidate: CandidateScores {
            rmse,
            mae: rmse * 0.8,
            mase: Some(0.9),
        },
        persistence: BaselineScores {
            rmse: persistence_rmse,
            mae: persistence_rmse * 0.8,
        },
        seasonal_naive: None,
        incumbent: None,
    }
}

pub fn registration_of(version: u32, scope: &str) -> Registered {
    Registered {
        model: ModelName::parse("co2-room").unwrap(),
        version,
        scope: Scope::parse(scope).unwrap(),
        artifact: ArtifactRef::of(format!("co2-room/{version}.onnx"), b"onnx bytes"),
        feature_spec: FeatureSpecRef {
            name: "indoor_air".into(),
            version: 3,
            inputs: vec!["co2_ppm".into(), "co2_ppm_lag1".into()],
        },
        horizon_bins: 12,
        lineage: Lineage {
            training_run: uuid::Uuid::from_u128(7),
            dataset_fingerprint: sha256_hex(b"dataset"),
            code_version: "abc1234".into(),
        },
        holdout: holdout(),
        reference: Vec::new(),
    }
}

pub fn registration() -> Registered {
    registration_of(3, "site:s1")
}

pub fn key() -> ModelVersionKey {
    ModelVersionKey {
        model: ModelName::parse("co2-room").unwrap(),
        version: 3,
    }
}

pub fn signing_key() -> SigningKeyPair {
    SigningKeyPair::from_secret_bytes(&[5u8; 32])
}

pub fn t(minute: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600 + minute * 60, 0).unwrap()
}

pub fn ops() -> Actor {
    Actor::User("ops".into())
}

pub fn given(events: &[ModelVersionEvent]) -> ModelVersionState {
    events.iter().fold(ModelVersionState::default(), apply)
}

/// Decides and applies, the way the service will: events are the only way state changes.
pub fn run(state: ModelVersionState, command: Command) -> ModelVersionState {
    let events = crate::domain::decide(&state, command).unwrap();
    events.iter().fold(state, apply)
}

/// A correct signature over the state's manifest, as the service would produce it.
pub fn sign_command(state: &ModelVersionState, key: &SigningKeyPair) -> Command {
    let manifest = state.version().unwrap().manifest_to_sign(t(0)).unwrap();
    Command::SignManifest {
        signed: Box::new(sign(manifest, key).unwrap()),
        signer: key.public_key().clone(),
    }
}

pub fn promote(to: Stage, minute: i64) -> Command {
    Command::Promote {
        to,
        current_prod: None,
        actor: ops(),
        at: t(minute),
    }
}

/// A registered, scored (`rmse` vs persistence 50) and signed version in dev.
pub fn scored_and_signed(version: u32, scope: &str, rmse: f64) -> ModelVersionState {
    let state = run(
        ModelVersionState::default(),
        Command::Register(registration_of(version, scope)),
    );
    let state = run(
        state,
        Command::AttachMetrics {
            holdout_fingerprint: holdout().fingerprint,
            metrics: metrics(rmse, 50.0),
        },
    );
    let command = sign_command(&state, &signing_key());
    run(state, command)
}
