//! A wave's health gate. A wave passes when its devices acknowledged the new version and, over the
//! gate window, the new version's live forecast error is not clearly worse than the previous
//! version's. Installs alone are not health: a model that installs fine and forecasts worse fails.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateSettings {
    /// How long the wave must have served before it is judged, in seconds.
    pub window_secs: u64,
    /// Forecasts (joined with actuals) each version needs in the window before errors count.
    /// 0: the gate judges acknowledgements only, never the live error.
    pub min_forecasts: u64,
    /// The new version fails when its RMSE exceeds the previous version's by this factor.
    pub max_error_ratio: f64,
    /// Devices that may fail to apply before the wave fails.
    pub max_failed_devices: usize,
    /// A wave whose devices have not all answered after this long fails, in seconds.
    pub apply_timeout_secs: u64,
}

impl Default for GateSettings {
    fn default() -> Self {
        Self {
            window_secs: 300,
            min_forecasts: 30,
            max_error_ratio: 1.2,
            max_failed_devices: 0,
            apply_timeout_secs: 120,
        }
    }
}

/// Live forecast error of one version over the gate window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LiveError {
    pub rmse: f64,
    pub forecasts: u64,
}

/// What the service measured for the current wave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub applied: usize,
    pub failed: usize,
    /// Seconds since the wave started.
    pub elapsed_secs: u64,
    pub new_version: Option<LiveError>,
    /// The previous version's error over the same window (devices not yet switched, or the
    /// same devices before the switch); `None` when there was no previous version.
    pub previous_version: Option<LiveError>,
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
    let enough = |e: &Option<LiveError>| e.filter(|e| e.forecasts >= settings.min_forecasts);
    let Some(previous) = evidence.previous_version else {
        return Verdict::Pass {
            summary: format!(
                "{} devices applied; no previous version to compare",
                evidence.applied
            ),
        };
    };
    let (Some(new), Some(_)) = (enough(&evidence.new_version), enough(&Some(previous))) else {
        return if evidence.elapsed_secs >= settings.window_secs * 4 {
            Verdict::Fail {
                reason: format!(
                    "too few forecasts joined with actuals after {} s (need {} per version)",
                    evidence.elapsed_secs, settings.min_forecasts
                ),
            }
        } else {
            Verdict::Wait {
                why: "waiting for forecasts to meet their actuals".into(),
            }
        };
    };
    let ratio = if previous.rmse > 0.0 {
        new.rmse / previous.rmse
    } else if new.rmse > 0.0 {
        f64::INFINITY
    } else {
        1.0
    };
    if ratio > settings.max_error_ratio {
        Verdict::Fail {
            reason: format!(
                "live RMSE {:.3} is {ratio:.2}x the previous version's {:.3} (limit {:.2}x) over {} + {} forecasts",
                new.rmse,
                previous.rmse,
                settings.max_error_ratio,
                new.forecasts,
                previous.forecasts
            ),
        }
    } else {
        Verdict::Pass {
            summary: format!(
                "{} devices applied; live RMSE {:.3} vs previous {:.3} ({ratio:.2}x)",
                evidence.applied, new.rmse, previous.rmse
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(new: f64, old: f64) -> Evidence {
        Evidence {
            applied: 10,
            failed: 0,
            elapsed_secs: 600,
            new_version: Some(LiveError {
                rmse: new,
                forecasts: 100,
            }),
            previous_version: Some(LiveError {
                rmse: old,
                forecasts: 100,
            }),
        }
    }

    #[test]
    fn a_version_that_forecasts_clearly_worse_fails_though_it_installed() {
        let verdict = judge(&GateSettings::default(), 10, &evidence(30.0, 20.0));
        assert!(matches!(verdict, Verdict::Fail { reason } if reason.contains("1.50x")));
    }

    #[test]
    fn a_version_as_good_passes() {
        assert!(matches!(
            judge(&GateSettings::default(), 10, &evidence(21.0, 20.0)),
            Verdict::Pass { .. }
        ));
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
                let skipped = Evidence {
                    new_version: None,
                    previous_version: Some(LiveError { rmse: 0.0, forecasts: 0 }),
                    ..measured.clone()
                };
                proptest::prop_assert_eq!(
                    judge(&settings, 10, &measured),
                    judge(&settings, 10, &skipped)
                );
            }
        }
    }

    #[test]
    fn too_few_forecasts_wait_then_fail() {
        let settings = GateSettings::default();
        let mut e = evidence(1.0, 1.0);
        e.new_version = Some(LiveError {
            rmse: 1.0,
            forecasts: 3,
        });
        assert!(matches!(judge(&settings, 10, &e), Verdict::Wait { .. }));
        e.elapsed_secs = settings.window_secs * 4;
        assert!(matches!(judge(&settings, 10, &e), Verdict::Fail { .. }));
    }
}
