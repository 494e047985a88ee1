//! The decision on a [`Comparison`]: two one-sided tests at 95 % on the paired squared-error
//! differences (Diebold–Mariano style, with the Newey–West standard error of [`crate::paired`]):
//!
//! 1. fewer than `min_forecasts` judged forecasts → **undecided** (never a pass);
//! 2. **fail** when the candidate is worse than persistence with 95 % confidence:
//!    `mean(c - b) - z·se > 0`;
//! 3. **pass** when the candidate's mean squared error is below `max_ratio` × persistence's
//!    with 95 % confidence: `mean(c - max_ratio·b) + z·se ≤ 0`;
//! 4. otherwise **undecided**: the data do not tell yet.
//!
//! The fail test comes first: a candidate shown to be worse than persistence fails even when it
//! is also shown to be within the margin. The margin (`max_ratio`) only decides how soon a
//! candidate about as good as persistence may pass; with it at 1, such a candidate would stay
//! undecided for ever.

use serde::{Deserialize, Serialize};

use crate::paired::Comparison;

/// The one-sided 95 % quantile of the standard normal distribution.
pub const Z_ONE_SIDED_95: f64 = 1.644_853_626_951_472_2;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// Judged forecasts needed before anything is decided.
    pub min_forecasts: u64,
    /// The candidate passes once its mean squared error is below this multiple of
    /// persistence's, with 95 % confidence.
    pub max_ratio: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    Undecided,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub outcome: Outcome,
    /// The figures and the counts, in words: what a verdict shows.
    pub text: String,
}

/// Decides on `comparison` by `rule`.
pub fn decide(comparison: &Comparison, rule: &Rule) -> Decision {
    let judged = comparison.describe();
    let need = rule.min_forecasts.max(1);
    if comparison.forecasts < need {
        return Decision {
            outcome: Outcome::Undecided,
            text: format!("too few forecasts judged yet (need {need}): {judged}"),
        };
    }
    let figures = format!(
        "live MSE {:.2}x persistence's at the same origins and horizon (RMSE {:.1} vs {:.1})",
        comparison.ratio(),
        comparison.candidate_mse.sqrt(),
        comparison.baseline_mse.sqrt()
    );
    let (worse, worse_se) = comparison.difference(1.0);
    if worse - Z_ONE_SIDED_95 * worse_se > 0.0 {
        return Decision {
            outcome: Outcome::Fail,
            text: format!(
                "{figures}: worse than persistence with 95 % confidence (z = {}); {judged}",
                z(worse, worse_se)
            ),
        };
    }
    let (within, within_se) = comparison.difference(rule.max_ratio);
    if within + Z_ONE_SIDED_95 * within_se <= 0.0 {
        return Decision {
            outcome: Outcome::Pass,
            text: format!(
                "{figures}: below {:.2}x with 95 % confidence (z = {}); {judged}",
                rule.max_ratio,
                z(within, within_se)
            ),
        };
    }
    Decision {
        outcome: Outcome::Undecided,
        text: format!(
            "{figures}: neither worse than persistence nor below {:.2}x with 95 % confidence yet; {judged}",
            rule.max_ratio
        ),
    }
}

fn z(mean: f64, se: f64) -> String {
    if se > 0.0 {
        format!("{:.2}", mean / se)
    } else {
        "exact".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comparison(forecasts: u64, c: f64, b: f64, lrv: f64) -> Comparison {
        Comparison {
            forecasts,
            devices: 1,
            candidate_mse: c,
            baseline_mse: b,
            lrv_cc: lrv,
            lrv_cb: lrv / 2.0,
            lrv_bb: lrv,
            ..Comparison::default()
        }
    }

    const RULE: Rule = Rule {
        min_forecasts: 30,
        max_ratio: 1.05,
    };

    #[test]
    fn clearly_worse_fails_clearly_better_passes() {
        let worse = decide(&comparison(400, 110.0, 100.0, 400.0), &RULE);
        assert_eq!(worse.outcome, Outcome::Fail, "{}", worse.text);
        assert!(worse.text.contains("1.10x"), "{}", worse.text);
        let better = decide(&comparison(400, 90.0, 100.0, 400.0), &RULE);
        assert_eq!(better.outcome, Outcome::Pass, "{}", better.text);
    }

    #[test]
    fn the_same_difference_on_fewer_forecasts_is_undecided() {
        // se = sqrt(lrv / n): at n = 30 the 10 % difference is within the noise.
        let worse = decide(&comparison(30, 110.0, 100.0, 400.0 * 40.0), &RULE);
        assert_eq!(worse.outcome, Outcome::Undecided, "{}", worse.text);
    }

    #[test]
    fn too_few_is_undecided_even_when_perfect() {
        let few = decide(&comparison(29, 0.0, 100.0, 0.0), &RULE);
        assert_eq!(few.outcome, Outcome::Undecided);
        assert!(
            few.text
                .starts_with("too few forecasts judged yet (need 30): 29 forecasts")
        );
        let none = decide(
            &Comparison::default(),
            &Rule {
                min_forecasts: 0,
                ..RULE
            },
        );
        assert_eq!(
            none.outcome,
            Outcome::Undecided,
            "nothing judged never passes"
        );
    }

    #[test]
    fn shown_worse_fails_even_inside_the_margin() {
        // 2 % worse, known exactly: worse than persistence, though below 1.05x.
        let d = decide(&comparison(1000, 102.0, 100.0, 0.0), &RULE);
        assert_eq!(d.outcome, Outcome::Fail);
    }

    #[test]
    fn as_good_as_persistence_passes_on_the_margin() {
        let d = decide(&comparison(1000, 100.0, 100.0, 100.0), &RULE);
        assert_eq!(d.outcome, Outcome::Pass, "{}", d.text);
    }
}
