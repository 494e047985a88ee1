//! A view over all versions of one model: which version serves each scope.
//!
//! Several versions of a scope may be in `prod` at once: promoting a new one does not touch
//! the old one (another aggregate), and the old one stays as the rollback target. The
//! current one is the latest to enter prod; archiving it makes the one before current again.

use std::collections::BTreeMap;

use crate::domain::commands::ProdSummary;
use crate::domain::state::{ModelVersion, ModelVersionState};
use edgeops_registry_api::Stage;
use edgeops_registry_api::{ModelName, Scope};

fn in_prod<'a>(
    model: &ModelName,
    versions: impl IntoIterator<Item = &'a ModelVersionState>,
) -> impl Iterator<Item = &'a ModelVersion> {
    let model = model.clone();
    versions
        .into_iter()
        .filter_map(ModelVersionState::version)
        .filter(move |v| v.stage == Stage::Prod && v.registration.model == model)
}

/// The serving version per scope: latest `stage_since`, then highest version number.
pub fn current_prod<'a>(
    model: &ModelName,
    versions: impl IntoIterator<Item = &'a ModelVersionState>,
) -> BTreeMap<Scope, &'a ModelVersion> {
    let mut current: BTreeMap<Scope, &ModelVersion> = BTreeMap::new();
    for v in in_prod(model, versions) {
        let rank = |v: &ModelVersion| (v.stage_since, v.registration.version);
        current
            .entry(v.registration.scope.clone())
            .and_modify(|best| {
                if rank(v) > rank(best) {
                    *best = v;
                }
            })
            .or_insert(v);
    }
    current
}

/// Versions still in prod but no longer serving: rollback targets, or candidates to archive.
pub fn superseded_prod<'a>(
    model: &ModelName,
    versions: impl IntoIterator<Item = &'a ModelVersionState> + Clone,
) -> Vec<&'a ModelVersion> {
    let current = current_prod(model, versions.clone());
    in_prod(model, versions)
        .filter(|v| {
            current
                .get(&v.registration.scope)
                .is_none_or(|c| c.registration.version != v.registration.version)
        })
        .collect()
}

/// What `Promote { to: prod }` needs to know about the version `candidate` would replace.
/// The prod version's RMSE counts as measured on the candidate's holdout only when both were
/// evaluated on the same holdout (equal fingerprints).
pub fn prod_summary_for<'a>(
    candidate: &ModelVersion,
    versions: impl IntoIterator<Item = &'a ModelVersionState>,
) -> Option<ProdSummary> {
    let model = &candidate.registration.model;
    let current = current_prod(model, versions);
    let prod = current.get(&candidate.registration.scope)?;
    if prod.registration.version == candidate.registration.version {
        return None;
    }
    let same_holdout =
        prod.registration.holdout.fingerprint == candidate.registration.holdout.fingerprint;
    Some(ProdSummary {
        version: prod.registration.version,
        holdout_fingerprint: prod.registration.holdout.fingerprint.clone(),
        rmse_on_this_holdout: prod
            .metrics
            .as_ref()
            .filter(|_| same_holdout)
            .map(|m| m.candidate.rmse),
    })
}

#[cfg(test)]
mod tests;
