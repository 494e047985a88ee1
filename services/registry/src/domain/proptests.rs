//! Property: whatever commands arrive, in whatever order, no version reaches staging or prod
//! without beating persistence, nor prod while measured worse than the prod it replaces, and
//! every stage change follows the transition table.

use edgeops_artifacts::sign;
use proptest::prelude::*;

use crate::domain::commands::{Command, ProdSummary};
use crate::domain::decide;
use crate::domain::events::ModelVersionEvent;
use crate::domain::state::{ModelVersionState, apply};
use crate::domain::test_support::*;
use edgeops_registry_api::Stage;
use edgeops_registry_api::metrics::IncumbentScore;

/// An incumbent's RMSE is written as an offset from the candidate's, so that ties and
/// near-ties (where an off-by-one comparison would hide) come up often.
#[derive(Debug, Clone)]
enum Op {
    Register,
    Attach {
        rmse: f64,
        persistence: f64,
        incumbent: Option<(u32, f64)>,
    },
    Sign {
        tamper: bool,
    },
    Promote {
        to: Stage,
        prod: Option<(u32, Option<f64>)>,
    },
    Archive,
}

fn score() -> impl Strategy<Value = f64> {
    prop::sample::select(vec![0.0, 10.0, 39.99, 40.0, 40.01, 50.0, 60.0])
}

fn offset() -> impl Strategy<Value = f64> {
    prop::sample::select(vec![-5.0, -0.5, -0.01, 0.0, 0.01, 0.5, 5.0])
}

fn stage() -> impl Strategy<Value = Stage> {
    prop::sample::select(vec![
        Stage::Dev,
        Stage::Staging,
        Stage::Staging,
        Stage::Prod,
        Stage::Prod,
        Stage::Archived,
    ])
}

fn attach() -> impl Strategy<Value = Op> {
    (score(), score(), prop::option::of((1u32..=4, offset()))).prop_map(
        |(rmse, persistence, incumbent)| Op::Attach {
            rmse,
            persistence,
            incumbent,
        },
    )
}

fn promote_to(to: impl Strategy<Value = Stage>) -> impl Strategy<Value = Op> {
    (to, prop::option::of((1u32..=4, prop::option::of(offset()))))
        .prop_map(|(to, prod)| Op::Promote { to, prod })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Register),
        2 => attach(),
        3 => prop::bool::weighted(0.2).prop_map(|tamper| Op::Sign { tamper }),
        8 => promote_to(stage()),
        1 => Just(Op::Archive),
    ]
}

/// The path to prod, each step present with high probability and with random numbers, so
/// that many sequences reach the gates that matter (the random tail then tries everything).
fn towards_prod() -> impl Strategy<Value = Vec<Op>> {
    (
        prop::option::weighted(0.9, attach()),
        prop::option::weighted(
            0.9,
            prop::bool::weighted(0.1).prop_map(|tamper| Op::Sign { tamper }),
        ),
        prop::option::weighted(0.9, promote_to(Just(Stage::Staging))),
        prop::option::weighted(0.9, promote_to(Just(Stage::Prod))),
    )
        .prop_map(|(a, b, c, d)| [a, b, c, d].into_iter().flatten().collect())
}

fn command(state: &ModelVersionState, op: &Op, minute: i64) -> Command {
    let candidate_rmse = state
        .version()
        .and_then(|v| v.metrics.as_ref())
        .map_or(40.0, |m| m.candidate.rmse);
    let near = |rmse: f64, offset: f64| (rmse + offset).max(0.0);
    match op {
        Op::Register => Command::Register(registration()),
        Op::Attach {
            rmse,
            persistence,
            incumbent,
        } => {
            let mut m = metrics(*rmse, *persistence);
            m.incumbent = incumbent.map(|(version, offset)| IncumbentScore {
                version,
                rmse: near(*rmse, offset),
            });
            Command::AttachMetrics {
                holdout_fingerprint: "hold-1".into(),
                metrics: m,
            }
        }
        Op::Sign { tamper } => {
            let mut manifest = match state.version().map(|v| v.manifest_to_sign(t(minute))) {
                Some(Ok(manifest)) => manifest,
                // No metrics yet: a manifest borrowed from a scored twin.
                _ => scored_and_signed(3, "site:s1", 1.0)
                    .version()
                    .and_then(|v| v.manifest_to_sign(t(minute)).ok())
                    .unwrap(),
            };
            if *tamper {
                manifest.metrics.insert("rmse".into(), 0.0);
            }
            Command::SignManifest {
                signed: Box::new(sign(manifest, &signing_key()).unwrap()),
                signer: signing_key().public_key().clone(),
            }
        }
        Op::Promote { to, prod } => Command::Promote {
            to: *to,
            current_prod: prod.map(|(version, offset)| ProdSummary {
                version,
                holdout_fingerprint: "hold-0".into(),
                rmse_on_this_holdout: offset.map(|o| near(candidate_rmse, o)),
            }),
            actor: ops(),
            at: t(minute),
        },
        Op::Archive => Command::Archive {
            actor: ops(),
            reason: "property test".into(),
            at: t(minute),
        },
    }
}

proptest! {
    #[test]
    fn no_command_sequence_promotes_a_version_that_does_not_earn_it(
        start_registered in prop::bool::weighted(0.9),
        prefix in towards_prod(),
        tail in prop::collection::vec(op(), 0..30),
    ) {
        // Usually registered already, so that most sequences get as far as the gates.
        let mut state = if start_registered {
            given(&[ModelVersionEvent::Registered(registration())])
        } else {
            ModelVersionState::default()
        };
        for (minute, op) in (0i64..).zip(prefix.iter().chain(&tail)) {
            let cmd = command(&state, op, minute);
            let current_prod = match &cmd {
                Command::Promote { current_prod, .. } => current_prod.clone(),
                _ => None,
            };
            let Ok(events) = decide(&state, cmd) else { continue };
            for event in &events {
                if let ModelVersionEvent::StageChanged(change) = event {
                    prop_assert_eq!(Some(change.from), state.stage());
                    prop_assert!(change.from.can_move_to(change.to), "{:?}", change);
                }
                state = apply(state, event);
            }
            let Some(v) = state.version() else { continue };
            if matches!(v.stage, Stage::Staging | Stage::Prod) {
                let m = v.metrics.as_ref();
                prop_assert!(m.is_some_and(|m| m.candidate.rmse < m.persistence.rmse), "{:?}", v);
                prop_assert!(v.signed.is_some());
            }
            let entered_prod = events.iter().any(|e| matches!(
                e, ModelVersionEvent::StageChanged(c) if c.to == Stage::Prod));
            if let (true, Some(prod), Some(m)) = (entered_prod, current_prod, v.metrics.as_ref()) {
                let attached = m.incumbent.filter(|i| i.version == prod.version).map(|i| i.rmse);
                let measured = attached.or(prod.rmse_on_this_holdout);
                prop_assert!(
                    measured.is_some_and(|r| m.candidate.rmse <= r),
                    "{:?} vs {:?}", m, prod
                );
            }
        }
    }
}
