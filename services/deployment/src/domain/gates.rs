//! A wave's health gate. A wave passes when its devices acknowledged the new version and, over the
//! gate window, its live forecasts are shown to be about as good as persistence at the same
//! origins and horizon, or better (the rule is `edgeops_evaluation`'s, see docs/deployment.md).
//! Installs alone are not health: a model that installs fine and forecasts worse fails.

use edgeops_deployment_api::gate_settings::{GateSettings, UNDECIDED_WINDOWS};
use edgeops_evaluation::{Comparison, Outcome, Rule, decide};
use serde::{Deserialize, Serialize};

/// What the service measured for the current wave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub applied: usize,
    pub failed: usize,
    /// Seconds since the wave started.
    pub elapsed_secs: u64,
    /// The wave's forecasts since it started, paired with persistence; `None` when not
    /// measured (see [`needs_live_error`]).
    pub live: Option<Comparison>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Pass { summary: String },
    Fail { reason: String },
    Wait { why: String },
}

/// Whether [`judge`] would look at the live errors: only when it gates on them at all
/// (`min_forecasts > 0`), once every device of the wave answered, few enough failed, and the
/// window has passed. Before that the verdict does not
/// depend on them, so the service need not query for them.
pub fn needs_live_error(settings: &GateSettings, wave_size: usize, evidence: &Evidence) -> bool {
    settings.min_forecasts > 0
        && evidence.failed <= settings.max_failed_devices
        && evidence.applied + evidence.failed >= wave_size
        && evidence.elapsed_secs >= settings.window_secs
}

/// Judges a wave of `wave_size` devices.
pub fn judge(settings: &GateSettings, wave_size: usize, evidence: &Evidence) -> Verdict {
    if evidence.failed > settings.max_failed_devices {
        return Verdict::Fail {
            reason: format!(
                "{} of {wave_size} devices failed to apply (at most {} allowed)",
                evidence.failed, settings.max_failed_devices
            ),
        };
    }
    let answered = evidence.applied + evidence.failed;
    if answered < wave_size {
        return if evidence.elapsed_secs >= settings.apply_timeout_secs {
            Verdict::Fail {
                reason: format!(
                    "{} of {wave_size} devices did not report within {} s",
                    wave_size - answered,
                    settings.apply_timeout_secs
                ),
            }
        } else {
            Verdict::Wait {
                why: format!("{answered} of {wave_size} devices reported"),
            }
        };
    }
    if evidence.elapsed_secs < settings.window_secs {
        return Verdict::Wait {
            why: format!(
                "window {}/{} s",
                evidence.elapsed_secs, settings.window_secs
            ),
        };
    }
    // `min_forecasts: 0` gates on acknowledgements alone: the live error is not judged (a
    // handful of forecasts would make the comparison a coin toss).
    if settings.min_forecasts == 0 {
        return Verdict::Pass {
            summary: format!(
                "{} devices applied; live error not gated (min_forecasts 0)",
                evidence.applied
            ),
        };
    }
    let Some(live) = &evidence.live else {
        return Verdict::Wait {
            why: "live error not measured yet".into(),
        };
    };
    let rule = Rule {
        min_forecasts: settings.min_forecasts,
        max_ratio: settings.max_error_ratio,
    };
    let decision = decide(live, &rule);
    match decision.outcome {
        Outcome::Pass => Verdict::Pass {
            summary: format!("{} devices applied; {}", evidence.applied, decision.text),
        },
        Outcome::Fail => Verdict::Fail {
            reason: decision.text,
        },
        Outcome::Undecided if evidence.elapsed_secs >= settings.window_secs * UNDECIDED_WINDOWS => {
            Verdict::Fail {
                reason: format!(
                    "undecided after {} s: {}",
                    evidence.elapsed_secs, decision.text
                ),
            }
        }
        Outcome::Undecided => Verdict::Wait { why: decision.text },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` forecasts, the candidate's MSE `new` and persistence's `old`, known to within
    /// a standard error of `new / 100` or so.
    fn live(n: u64, new: f64, old: f64) -> Comparison {
        let lrv = (new + old) * (new + old) / 400.0 * n as f64 / 100.0;
        Comparison {
            forecasts: n,
            devices: 3,
            candidate_mse: new,
            baseline_mse: old,
            lrv_cc: lrv,
            lrv_cb: 0.0,
            lrv_bb: lrv,
            ..Comparison::default()
        }
    }

    fn evidence(new: f64, old: f64) -> Evidence {
        Evidence {
            applied: 10,
            failed: 0,
            elapsed_secs: 600,
            live: Some(live(100, new, old)),
        }
    }

    #[test]
    fn a_version_that_forecasts_clearly_worse_fails_though_it_installed() {
        let verdict = judge(&GateSettings::default(), 10, &evidence(30.0, 20.0));
        assert!(
            matches!(&verdict, Verdict::Fail { reason } if reason.contains("1.50x") && reason.contains("100 forecasts of 3 devices")),
            "{verdict:?}"
        );
    }

    #[test]
    fn a_version_clearly_better_passes_and_says_on_what() {
        let verdict = judge(&GateSettings::default(), 10, &evidence(18.0, 20.0));
        assert!(
            matches!(&verdict, Verdict::Pass { summary } if summary.contains("100 forecasts")),
            "{verdict:?}"
        );
    }

    #[test]
    fn ten_percent_worse_no_longer_passes_by_design() {
        let verdict = judge(&GateSettings::default(), 10, &evidence(22.0, 20.0));
        assert!(matches!(verdict, Verdict::Fail { .. }), "{verdict:?}");
    }

    #[test]
    fn install_failures_fail_at_once() {
        let mut e = evidence(1.0, 20.0);
        e.failed = 1;
        e.applied = 2;
        assert!(matches!(
            judge(&GateSettings::default(), 10, &e),
            Verdict::Fail { .. }
        ));
    }

    #[test]
    fn the_gate_waits_for_reports_and_the_window_then_times_out() {
        let settings = GateSettings::default();
        let mut e = evidence(1.0, 1.0);
        e.applied = 5;
        e.elapsed_secs = 10;
        assert!(matches!(judge(&settings, 10, &e), Verdict::Wait { .. }));
        e.elapsed_secs = settings.apply_timeout_secs;
        assert!(matches!(judge(&settings, 10, &e), Verdict::Fail { .. }));
        let mut early = evidence(1.0, 1.0);
        early.elapsed_secs = 5;
        assert!(matches!(judge(&settings, 10, &early), Verdict::Wait { .. }));
    }

    #[test]
    fn no_forecast_minimum_gates_on_acks_alone() {
        let settings = GateSettings {
            min_forecasts: 0,
            window_secs: 1,
            ..GateSettings::default()
        };
        let mut e = evidence(30.0, 10.0);
        e.elapsed_secs = 5;
        assert!(matches!(judge(&settings, 10, &e), Verdict::Pass { .. }));
        assert!(!needs_live_error(&settings, 10, &e));
        e.applied = 9;
        assert!(matches!(judge(&settings, 10, &e), Verdict::Wait { .. }));
    }

    proptest::proptest! {
        /// When the service skips measuring live errors, the verdict could not have used them.
        #[test]
        fn skipping_the_live_error_never_changes_a_verdict(
            applied in 0usize..12, failed in 0usize..3, elapsed in 0u64..700,
            new in 0.0f64..50.0, old in 0.1f64..50.0,
        ) {
            let settings = GateSettings::default();
            let mut measured = evidence(new, old);
            (measured.applied, measured.failed, measured.elapsed_secs) = (applied, failed, elapsed);
            if !needs_live_error(&settings, 10, &measured) {
                let skipped = Evidence { live: None, ..measured.clone() };
                proptest::prop_assert_eq!(
                    judge(&settings, 10, &measured),
                    judge(&settings, 10, &skipped)
                );
            }
        }

        /// Too few judged forecasts never pass, however good they look.
        #[test]
        fn too_few_forecasts_never_pass(n in 0u64..30, new in 0.0f64..50.0, old in 0.1f64..50.0, elapsed in 300u64..5000) {
            let mut e = evidence(new, old);
            e.live = Some(live(n, new, old));
            e.elapsed_secs = elapsed;
            let verdict = judge(&GateSettings::default(), 10, &e);
            let passed = matches!(verdict, Verdict::Pass { .. });
            proptest::prop_assert!(!passed, "{:?}", verdict);
        }
    }

    #[test]
    fn undecided_waits_then_fails() {
        let settings = GateSettings::default();
        let mut e = evidence(1.0, 1.0);
        e.live = Some(live(3, 1.0, 1.0));
        let verdict = judge(&settings, 10, &e);
        assert!(
            matches!(&verdict, Verdict::Wait { why } if why.contains("too few forecasts judged yet (need 30): 3 forecasts")),
            "{verdict:?}"
        );
        e.elapsed_secs = settings.window_secs * UNDECIDED_WINDOWS;
        assert!(
            matches!(judge(&settings, 10, &e), Verdict::Fail { reason } if reason.starts_with("undecided after 1200 s"))
        );
    }
}
