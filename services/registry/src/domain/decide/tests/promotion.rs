//! Given/when/then: promotion gates, transitions and archiving.

use super::*;
use edgeops_registry_api::Gate;
use edgeops_registry_api::metrics::IncumbentScore;

fn in_stage(stage: Stage) -> ModelVersionState {
    let mut state = scored_and_signed(3, "site:s1", 40.0);
    for (minute, to) in [(1, Stage::Staging), (2, Stage::Prod)] {
        if state.stage() == Some(stage) {
            break;
        }
        state = run(state, promote(to, minute));
    }
    state
}

fn to_prod_against(prod_version: u32, rmse_here: Option<f64>) -> Command {
    Command::Promote {
        to: Stage::Prod,
        current_prod: Some(ProdSummary {
            version: prod_version,
            holdout_fingerprint: "hold-0".into(),
            rmse_on_this_holdout: rmse_here,
        }),
        actor: ops(),
        at: t(9),
    }
}

fn gate_failures(events: &[ModelVersionEvent]) -> Vec<Gate> {
    events
        .iter()
        .map(|e| match e {
            ModelVersionEvent::GateFailed(f) => f.gate,
            other => panic!("expected only refusals, got {other:?}"),
        })
        .collect()
}

#[test]
fn a_version_that_beats_persistence_enters_staging_with_the_numbers_as_reason() {
    let events = decide(&in_stage(Stage::Dev), promote(Stage::Staging, 1)).unwrap();
    let [ModelVersionEvent::StageChanged(change)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(
        (change.from, change.to, change.at),
        (Stage::Dev, Stage::Staging, t(1))
    );
    assert!(
        change.reason.contains("rmse 40 beats persistence rmse 50"),
        "{}",
        change.reason
    );
}

#[test]
fn a_version_that_does_not_beat_persistence_is_refused_on_record() {
    let state = scored_and_signed(3, "site:s1", 50.0);
    let events = decide(&state, promote(Stage::Staging, 1)).unwrap();
    assert_eq!(gate_failures(&events), [Gate::BeatsPersistence]);
    assert_eq!(events.iter().fold(state, apply).stage(), Some(Stage::Dev));
}

#[test]
fn promoting_without_metrics_is_an_error() {
    let state = given(&[ModelVersionEvent::Registered(registration())]);
    assert!(matches!(
        decide(&state, promote(Stage::Staging, 1)),
        Err(DomainError::NoMetrics { .. })
    ));
}

#[test]
fn promoting_an_unsigned_version_is_an_error() {
    let state = super::scored(40.0);
    assert_eq!(
        decide(&state, promote(Stage::Staging, 1)).unwrap_err(),
        DomainError::NotSigned { to: Stage::Staging }
    );
}

#[test]
fn dev_cannot_skip_staging() {
    assert_eq!(
        decide(&in_stage(Stage::Dev), promote(Stage::Prod, 1)).unwrap_err(),
        DomainError::IllegalTransition {
            from: Stage::Dev,
            to: Stage::Prod
        }
    );
}

#[test]
fn prod_cannot_be_demoted_to_staging() {
    assert_eq!(
        decide(&in_stage(Stage::Prod), promote(Stage::Staging, 5)).unwrap_err(),
        DomainError::IllegalTransition {
            from: Stage::Prod,
            to: Stage::Staging
        }
    );
}

#[test]
fn promoting_to_the_current_stage_is_an_error() {
    assert_eq!(
        decide(&in_stage(Stage::Staging), promote(Stage::Staging, 5)).unwrap_err(),
        DomainError::AlreadyInStage {
            stage: Stage::Staging
        }
    );
}

#[test]
fn archiving_is_not_a_promotion() {
    assert_eq!(
        decide(&in_stage(Stage::Dev), promote(Stage::Archived, 5)).unwrap_err(),
        DomainError::PromoteToArchived
    );
}

#[test]
fn the_first_prod_version_of_a_scope_only_needs_to_beat_persistence() {
    let state = run(in_stage(Stage::Staging), promote(Stage::Prod, 2));
    assert_eq!(state.stage(), Some(Stage::Prod));
    assert_eq!(state.version().unwrap().stage_since, Some(t(2)));
}

#[test]
fn a_version_worse_than_prod_on_the_same_holdout_is_refused() {
    let events = decide(&in_stage(Stage::Staging), to_prod_against(2, Some(39.0))).unwrap();
    assert_eq!(gate_failures(&events), [Gate::NotWorseThanProd]);
    let ModelVersionEvent::GateFailed(refusal) = &events[0] else {
        unreachable!()
    };
    assert_eq!(refusal.to, Stage::Prod);
    assert!(
        refusal
            .reason
            .contains("rmse 40 is worse than prod v2 rmse 39")
    );
}

#[test]
fn a_version_as_good_as_prod_is_promoted() {
    let events = decide(&in_stage(Stage::Staging), to_prod_against(2, Some(40.0))).unwrap();
    assert!(matches!(&events[..], [ModelVersionEvent::StageChanged(c)] if c.to == Stage::Prod));
}

#[test]
fn an_incumbent_score_attached_with_the_metrics_counts() {
    let state = run(
        given(&[ModelVersionEvent::Registered(registration())]),
        Command::AttachMetrics {
            holdout_fingerprint: "hold-1".into(),
            metrics: HoldoutMetrics {
                incumbent: Some(IncumbentScore {
                    version: 2,
                    rmse: 38.0,
                }),
                ..metrics(40.0, 50.0)
            },
        },
    );
    let command = sign_command(&state, &signing_key());
    let state = run(run(state, command), promote(Stage::Staging, 1));
    let events = decide(&state, to_prod_against(2, None)).unwrap();
    assert_eq!(gate_failures(&events), [Gate::NotWorseThanProd]);
}

#[test]
fn a_prod_version_never_scored_on_this_holdout_blocks_promotion() {
    let events = decide(&in_stage(Stage::Staging), to_prod_against(2, None)).unwrap();
    assert_eq!(gate_failures(&events), [Gate::NotWorseThanProd]);
}

#[test]
fn a_nonsense_incumbent_measurement_is_an_error_not_a_verdict() {
    assert!(matches!(
        decide(
            &in_stage(Stage::Staging),
            to_prod_against(2, Some(f64::NAN))
        ),
        Err(DomainError::InvalidMetrics { .. })
    ));
}

#[test]
fn any_stage_can_be_archived_with_a_reason() {
    for stage in [Stage::Dev, Stage::Staging, Stage::Prod] {
        let archive = Command::Archive {
            actor: ops(),
            reason: "superseded by v4".into(),
            at: t(30),
        };
        let events = decide(&in_stage(stage), archive).unwrap();
        assert!(matches!(&events[..], [ModelVersionEvent::StageChanged(c)]
                if c.from == stage && c.to == Stage::Archived && c.reason == "superseded by v4"));
    }
}

#[test]
fn archiving_needs_a_reason_and_happens_once() {
    let archive = |reason: &str| Command::Archive {
        actor: ops(),
        reason: reason.into(),
        at: t(30),
    };
    assert_eq!(
        decide(&in_stage(Stage::Dev), archive("  ")).unwrap_err(),
        DomainError::MissingReason
    );
    let archived = run(in_stage(Stage::Dev), archive("bad data"));
    assert_eq!(
        decide(&archived, archive("again")).unwrap_err(),
        DomainError::AlreadyInStage {
            stage: Stage::Archived
        }
    );
}

#[test]
fn an_archived_version_is_final() {
    let archived = run(
        in_stage(Stage::Prod),
        Command::Archive {
            actor: ops(),
            reason: "rollback".into(),
            at: t(30),
        },
    );
    assert!(matches!(
        decide(&archived, promote(Stage::Staging, 31)),
        Err(DomainError::IllegalTransition { .. })
    ));
    assert_eq!(
        decide(&archived, sign_command(&archived, &signing_key())).unwrap_err(),
        DomainError::Archived
    );
}

#[test]
fn a_prod_version_can_be_re_signed_with_a_new_key() {
    let state = in_stage(Stage::Prod);
    let rotated = SigningKeyPair::from_secret_bytes(&[8u8; 32]);
    let state = run(state.clone(), sign_command(&state, &rotated));
    let signed = state.version().unwrap().signed.as_ref().unwrap();
    assert_eq!(signed.key_id, rotated.key_id());
}
