//! Promotion gates. Each is a pure function from numbers to "pass, because ..." or "fail,
//! because ...", with the numbers in the text: a refusal is recorded as an event and read by
//! people, who should not have to look anything up to understand it.

use edgeops_contracts::training::MIN_SKILL_VS_PERSISTENCE;
use edgeops_registry_api::{Gate, Holdout, HoldoutMetrics, Stage};

use crate::domain::commands::ProdSummary;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateFailure {
    pub gate: Gate,
    pub reason: String,
}

/// The gates a version must pass to enter `to`. Prod repeats the persistence gate so that
/// the rule "never prod without beating persistence" does not rest on the path taken.
pub fn required(to: Stage) -> &'static [Gate] {
    match to {
        Stage::Staging => &[Gate::BeatsPersistence],
        Stage::Prod => &[Gate::BeatsPersistence, Gate::NotWorseThanProd],
        Stage::Dev | Stage::Archived => &[],
    }
}

/// A model that cannot beat "the next value equals the current one" by a margin is not worth
/// shipping: it must remove at least [`MIN_SKILL_VS_PERSISTENCE`] of persistence's RMSE.
pub fn beats_persistence(
    holdout: &Holdout,
    metrics: &HoldoutMetrics,
) -> Result<String, GateFailure> {
    let (candidate, persistence) = (metrics.candidate.rmse, metrics.persistence.rmse);
    let on = format!("holdout {} ({} rows)", holdout.fingerprint, holdout.rows);
    let bar = persistence * (1.0 - MIN_SKILL_VS_PERSISTENCE);
    let margin = MIN_SKILL_VS_PERSISTENCE * 100.0;
    // `<` as well: with a perfect persistence (0) nothing can beat it, not even another 0.
    if candidate <= bar && candidate < persistence {
        Ok(format!(
            "rmse {candidate} beats persistence rmse {persistence} by at least {margin}% on {on}"
        ))
    } else {
        Err(GateFailure {
            gate: Gate::BeatsPersistence,
            reason: format!(
                "rmse {candidate} does not beat persistence rmse {persistence} by {margin}% \
                 (at most {bar} needed) on {on}"
            ),
        })
    }
}

/// A new prod version must not be worse than the one it replaces, on the candidate's holdout.
///
/// The incumbent's RMSE comes from the attached metrics when they name the current prod
/// version, else from the command's `rmse_on_this_holdout`. Without either the gate fails:
/// an unmeasured comparison is not a passed one.
pub fn not_worse_than_prod(
    holdout: &Holdout,
    metrics: &HoldoutMetrics,
    current_prod: Option<&ProdSummary>,
) -> Result<String, GateFailure> {
    let Some(prod) = current_prod else {
        return Ok("no version is in prod for this scope".to_owned());
    };
    let from_metrics = metrics
        .incumbent
        .filter(|i| i.version == prod.version)
        .map(|i| i.rmse);
    let candidate = metrics.candidate.rmse;
    let fail = |reason| GateFailure {
        gate: Gate::NotWorseThanProd,
        reason,
    };
    let Some(incumbent) = from_metrics.or(prod.rmse_on_this_holdout) else {
        return Err(fail(format!(
            "prod v{} (evaluated on holdout {}) has no rmse measured on this version's holdout {}; \
             score it there before promoting",
            prod.version, prod.holdout_fingerprint, holdout.fingerprint
        )));
    };
    if candidate <= incumbent {
        Ok(format!(
            "rmse {candidate} is not worse than prod v{} rmse {incumbent} on holdout {}",
            prod.version, holdout.fingerprint
        ))
    } else {
        Err(fail(format!(
            "rmse {candidate} is worse than prod v{} rmse {incumbent} on holdout {}",
            prod.version, holdout.fingerprint
        )))
    }
}

/// Runs every gate `to` requires: all pass explanations, or every failure (not just the first,
/// so one refusal tells the whole story).
pub fn check(
    to: Stage,
    holdout: &Holdout,
    metrics: &HoldoutMetrics,
    current_prod: Option<&ProdSummary>,
) -> Result<Vec<String>, Vec<GateFailure>> {
    let (mut passed, mut failed) = (Vec::new(), Vec::new());
    for gate in required(to) {
        let outcome = match gate {
            Gate::BeatsPersistence => beats_persistence(holdout, metrics),
            Gate::NotWorseThanProd => not_worse_than_prod(holdout, metrics, current_prod),
        };
        match outcome {
            Ok(why) => passed.push(why),
            Err(failure) => failed.push(failure),
        }
    }
    if failed.is_empty() {
        Ok(passed)
    } else {
        Err(failed)
    }
}

#[cfg(test)]
mod tests;
