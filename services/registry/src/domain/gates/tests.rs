use super::*;
use crate::domain::test_support::{holdout, metrics};
use edgeops_registry_api::metrics::IncumbentScore;

fn prod(version: u32, rmse_here: Option<f64>) -> ProdSummary {
    ProdSummary {
        version,
        holdout_fingerprint: "hold-old".into(),
        rmse_on_this_holdout: rmse_here,
    }
}

#[test]
fn beating_persistence_needs_a_lower_rmse_by_the_margin() {
    assert!(beats_persistence(&holdout(), &metrics(49.5, 50.0)).is_ok());
    let tie = beats_persistence(&holdout(), &metrics(50.0, 50.0)).unwrap_err();
    assert_eq!(tie.gate, Gate::BeatsPersistence);
    assert_eq!(
        tie.reason,
        "rmse 50 does not beat persistence rmse 50 by 1% (at most 49.5 needed) on holdout hold-1 (2016 rows)"
    );
    let by_a_hair = beats_persistence(&holdout(), &metrics(49.9, 50.0)).unwrap_err();
    assert_eq!(by_a_hair.gate, Gate::BeatsPersistence);
    assert!(beats_persistence(&holdout(), &metrics(60.0, 50.0)).is_err());
}

#[test]
fn with_no_prod_version_there_is_nothing_to_be_worse_than() {
    assert!(not_worse_than_prod(&holdout(), &metrics(40.0, 50.0), None).is_ok());
}

#[test]
fn an_equal_rmse_to_prod_is_not_worse() {
    let ok = not_worse_than_prod(&holdout(), &metrics(40.0, 50.0), Some(&prod(2, Some(40.0))));
    assert!(ok.unwrap().contains("prod v2 rmse 40"));
}

#[test]
fn a_worse_rmse_than_prod_fails_with_both_numbers() {
    let err = not_worse_than_prod(&holdout(), &metrics(41.5, 50.0), Some(&prod(2, Some(40.0))))
        .unwrap_err();
    assert_eq!(err.gate, Gate::NotWorseThanProd);
    assert_eq!(
        err.reason,
        "rmse 41.5 is worse than prod v2 rmse 40 on holdout hold-1"
    );
}

#[test]
fn the_attached_incumbent_score_is_used_when_it_names_the_prod_version() {
    let mut m = metrics(41.5, 50.0);
    m.incumbent = Some(IncumbentScore {
        version: 2,
        rmse: 42.0,
    });
    assert!(not_worse_than_prod(&holdout(), &m, Some(&prod(2, None))).is_ok());
}

#[test]
fn a_stale_incumbent_score_gives_way_to_the_commands_measurement() {
    let mut m = metrics(41.5, 50.0);
    m.incumbent = Some(IncumbentScore {
        version: 1,
        rmse: 99.0,
    });
    let err = not_worse_than_prod(&holdout(), &m, Some(&prod(2, Some(40.0)))).unwrap_err();
    assert!(err.reason.contains("prod v2 rmse 40"), "{}", err.reason);
}

#[test]
fn an_unmeasured_incumbent_fails_closed() {
    let err =
        not_worse_than_prod(&holdout(), &metrics(1.0, 50.0), Some(&prod(2, None))).unwrap_err();
    assert!(
        err.reason
            .contains("no rmse measured on this version's holdout hold-1")
    );
    assert!(err.reason.contains("hold-old"));
}

#[test]
fn prod_requires_both_gates_and_reports_every_failure() {
    let failures = check(
        Stage::Prod,
        &holdout(),
        &metrics(60.0, 50.0),
        Some(&prod(2, Some(40.0))),
    )
    .unwrap_err();
    let gates: Vec<Gate> = failures.iter().map(|f| f.gate).collect();
    assert_eq!(gates, [Gate::BeatsPersistence, Gate::NotWorseThanProd]);
}

#[test]
fn staging_only_asks_to_beat_persistence() {
    let passed = check(
        Stage::Staging,
        &holdout(),
        &metrics(45.0, 50.0),
        Some(&prod(2, Some(40.0))),
    )
    .unwrap();
    assert_eq!(passed.len(), 1);
    assert!(required(Stage::Archived).is_empty());
}
