use super::*;
use crate::domain::Command;
use crate::domain::test_support::*;

fn prod_at(version: u32, scope: &str, minute: i64) -> ModelVersionState {
    let state = run(
        scored_and_signed(version, scope, 40.0 - f64::from(version)),
        promote(Stage::Staging, minute),
    );
    run(state, promote(Stage::Prod, minute))
}

fn model() -> ModelName {
    ModelName::parse("co2-room").unwrap()
}

#[test]
fn the_latest_promotion_serves_each_scope() {
    let versions = [
        prod_at(1, "site:s1", 1),
        prod_at(3, "site:s1", 5),
        prod_at(2, "site:s1", 9),
        prod_at(4, "site:s2", 2),
        scored_and_signed(5, "site:s1", 10.0),
    ];
    let current = current_prod(&model(), &versions);
    let serving: Vec<(String, u32)> = current
        .iter()
        .map(|(scope, v)| (scope.to_string(), v.registration.version))
        .collect();
    assert_eq!(serving, [("site:s1".into(), 2), ("site:s2".into(), 4)]);
    let superseded: Vec<u32> = superseded_prod(&model(), &versions)
        .iter()
        .map(|v| v.registration.version)
        .collect();
    assert_eq!(superseded, [1, 3]);
}

#[test]
fn archiving_the_serving_version_makes_the_previous_one_current() {
    let archived = run(
        prod_at(2, "site:s1", 9),
        Command::Archive {
            actor: ops(),
            reason: "rollback".into(),
            at: t(20),
        },
    );
    let versions = [prod_at(1, "site:s1", 1), archived];
    let current = current_prod(&model(), &versions);
    assert_eq!(
        current
            .values()
            .map(|v| v.registration.version)
            .collect::<Vec<_>>(),
        [1]
    );
}

#[test]
fn other_models_are_ignored() {
    let versions = [prod_at(1, "site:s1", 1)];
    assert!(current_prod(&ModelName::parse("pm25").unwrap(), &versions).is_empty());
}

#[test]
fn the_prod_summary_reuses_prods_rmse_only_on_the_same_holdout() {
    let versions = [prod_at(1, "site:s1", 1)];
    let candidate = scored_and_signed(2, "site:s1", 30.0);
    let summary = prod_summary_for(candidate.version().unwrap(), &versions).unwrap();
    assert_eq!(summary.version, 1);
    assert_eq!(summary.rmse_on_this_holdout, Some(39.0));

    let mut other_holdout = candidate.version().unwrap().clone();
    other_holdout.registration.holdout.fingerprint = "hold-9".into();
    let summary = prod_summary_for(&other_holdout, &versions).unwrap();
    assert_eq!(summary.holdout_fingerprint, "hold-1");
    assert_eq!(summary.rmse_on_this_holdout, None);

    let elsewhere = scored_and_signed(2, "site:s2", 30.0);
    assert!(prod_summary_for(elsewhere.version().unwrap(), &versions).is_none());
}
