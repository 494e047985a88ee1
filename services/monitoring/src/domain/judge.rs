//! How one scope is judged from what the summaries say: pure functions from figures to a
//! [`Verdict`] with its evidence. Each has an alarm level and a lower clear level, so a
//! figure hovering at the threshold neither opens nor closes incidents window after window.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use edgeops_contracts::monitoring::{Evidence, FeatureReference, FeatureWindow, PairedErrorSums};
use edgeops_evaluation::drift::{DriftThresholds, FeatureDrift, combined, feature_drift};

use super::concept::{BASELINE_WINDOWS, ConceptState, Step};
use super::incident::Verdict;

/// The default levels; every one is a flag of the service (see `MonitoringConfig`).
#[derive(Debug, Clone, PartialEq)]
pub struct Levels {
    /// Windows of target time the live error is judged over.
    pub performance_windows: u32,
    /// Judged forecasts needed before skill says anything.
    pub min_judged: u64,
    /// Skill vs persistence below this opens `performance_degraded` (−0.25: the model's mean
    /// squared error is a quarter worse than persistence's)...
    pub degraded_skill: f64,
    /// ...and above this closes it.
    pub recovered_skill: f64,
    /// A device without a reading this long (by its site's clock) is silent.
    pub heartbeat: Duration,
    /// A site with no summary arriving this long (by the hub's clock) is offline.
    pub offline_after: Duration,
    /// After a recovery, an alarm this soon after opens nothing.
    pub cool_down: Duration,
    /// Windows of live inputs added up for a drift verdict: a whole day, so a feature with a
    /// daily cycle is compared with a reference that holds whole days too.
    pub drift_windows: u32,
    /// When a feature's inputs drifted (PSI and Wasserstein both past theirs); a drift closes
    /// once every judged feature is below half of either.
    pub drift: DriftThresholds,
    /// Dead letters of one reason in an hour that make a jump: at least this many...
    pub dead_letter_jump_min: u64,
    /// ...and this many times the hourly mean of the day before (plus one).
    pub dead_letter_jump_factor: f64,
}

impl Default for Levels {
    fn default() -> Self {
        Self {
            performance_windows: 6,
            min_judged: 36,
            degraded_skill: -0.25,
            recovered_skill: -0.05,
            heartbeat: Duration::minutes(15),
            offline_after: Duration::hours(3),
            cool_down: Duration::hours(6),
            drift_windows: 24,
            drift: DriftThresholds::default(),
            dead_letter_jump_min: 20,
            dead_letter_jump_factor: 5.0,
        }
    }
}

/// The live error of one model version at one device over the trailing windows.
pub fn performance(
    sums: &PairedErrorSums,
    span: (DateTime<Utc>, DateTime<Utc>),
    reference: &str,
    levels: &Levels,
) -> Verdict {
    if sums.judged < levels.min_judged {
        return Verdict::Unsure;
    }
    let Some(skill) = sums.skill() else {
        return Verdict::Unsure;
    };
    let evidence = |threshold| {
        vec![Evidence {
            statistic: "skill_vs_persistence".into(),
            value: skill,
            threshold,
            window_start: span.0,
            window_end: span.1,
            samples: sums.judged,
            reference_samples: sums.judged,
            reference: reference.into(),
            features: Vec::new(),
        }]
    };
    if skill < levels.degraded_skill {
        Verdict::Alarm(evidence(levels.degraded_skill))
    } else if skill > levels.recovered_skill {
        Verdict::Clear(evidence(levels.recovered_skill))
    } else {
        Verdict::Unsure
    }
}

/// The live error's verdict with the concept-drift detector's: either alarm opens the
/// incident; it closes only when skill is clearly back and the detector is quiet.
pub fn with_concept_drift(
    skill: Verdict,
    step: Step,
    detector: &ConceptState,
    span: (DateTime<Utc>, DateTime<Utc>),
) -> Verdict {
    if let Step::Fed {
        z,
        statistic,
        alarmed: true,
    } = step
    {
        let mut evidence = vec![Evidence {
            statistic: "page_hinkley".into(),
            value: statistic,
            threshold: detector.threshold(),
            window_start: span.0,
            window_end: span.1,
            samples: 1,
            reference_samples: u64::from(BASELINE_WINDOWS),
            reference: format!(
                "the version's first {BASELINE_WINDOWS} judged hours here (last z = {z:.2})"
            ),
            features: Vec::new(),
        }];
        if let Verdict::Alarm(skill) = skill {
            evidence.extend(skill);
        }
        return Verdict::Alarm(evidence);
    }
    match skill {
        Verdict::Clear(_) if !detector.quiet() => Verdict::Unsure,
        other => other,
    }
}

/// A stuck sensor: metrics whose every reading in the window had one value.
pub fn stuck(
    stuck_metrics: &[String],
    span: (DateTime<Utc>, DateTime<Utc>),
    readings: u64,
) -> Verdict {
    let evidence = vec![Evidence {
        statistic: "stuck_metrics".into(),
        value: stuck_metrics.len() as f64,
        threshold: 0.0,
        window_start: span.0,
        window_end: span.1,
        samples: readings,
        reference_samples: 0,
        reference: format!(
            "at least {} readings of one value",
            edgeops_contracts::monitoring::STUCK_MIN_READINGS
        ),
        features: stuck_metrics.to_vec(),
    }];
    if stuck_metrics.is_empty() {
        Verdict::Clear(evidence)
    } else {
        Verdict::Alarm(evidence)
    }
}

/// A jump in the hub's dead letters of one reason: `this_hour` against the hourly mean of the
/// day before. It alarms at `max(min, factor × (mean + 1))` and clears below a fifth of that.
pub fn dead_letter_jump(
    this_hour: u64,
    day_before_mean: f64,
    span: (DateTime<Utc>, DateTime<Utc>),
    levels: &Levels,
) -> Verdict {
    let alarm = (levels.dead_letter_jump_factor * (day_before_mean + 1.0))
        .max(levels.dead_letter_jump_min as f64);
    let evidence = |threshold| {
        vec![Evidence {
            statistic: "dead_letters_per_hour".into(),
            value: this_hour as f64,
            threshold,
            window_start: span.0,
            window_end: span.1,
            samples: this_hour,
            reference_samples: (day_before_mean * 24.0).round() as u64,
            reference: format!("{day_before_mean:.1} an hour over the day before"),
            features: Vec::new(),
        }]
    };
    if this_hour as f64 >= alarm {
        Verdict::Alarm(evidence(alarm))
    } else if (this_hour as f64) < alarm / 5.0 {
        Verdict::Clear(evidence(alarm / 5.0))
    } else {
        Verdict::Unsure
    }
}

/// A device's silence, judged on its site's own latest reading time (`site_time`), so an
/// offline site or a replay of old data does not make its devices silent.
pub fn silence(device_last: DateTime<Utc>, site_time: DateTime<Utc>, levels: &Levels) -> Verdict {
    quiet_too_long(
        "silence_secs",
        (device_last, site_time),
        levels.heartbeat,
        "the site's latest reading",
    )
}

/// A site's link, judged on when its last summary arrived (the hub's clock).
pub fn site_link(last_arrival: DateTime<Utc>, now: DateTime<Utc>, levels: &Levels) -> Verdict {
    quiet_too_long(
        "quiet_secs",
        (last_arrival, now),
        levels.offline_after,
        "the site's last summary",
    )
}

/// Alarm when `since..until` is longer than `allowed`, clear otherwise.
fn quiet_too_long(
    statistic: &str,
    (since, until): (DateTime<Utc>, DateTime<Utc>),
    allowed: Duration,
    reference: &str,
) -> Verdict {
    let quiet_for = until - since;
    let evidence = vec![Evidence {
        statistic: statistic.into(),
        value: quiet_for.num_seconds() as f64,
        threshold: allowed.num_seconds() as f64,
        window_start: since,
        window_end: until,
        samples: 0,
        reference_samples: 0,
        reference: reference.into(),
        features: Vec::new(),
    }];
    if quiet_for > allowed {
        Verdict::Alarm(evidence)
    } else {
        Verdict::Clear(evidence)
    }
}

/// The serving model's live inputs at one device (the trailing windows, per feature) against
/// its training reference: an alarm names every feature that moved, with PSI and the
/// Wasserstein distance as evidence; a clear needs every feature with a verdict clearly back
/// (below half of either threshold). Features with too few values get no verdict.
///
/// Two hours are enough for one thing: when most values of a feature lie outside the training
/// range (more than [`OUT_OF_RANGE_SHARE`] of at least [`OUT_OF_RANGE_MIN_VALUES`]) in this hour
/// and the one before, the model is fed inputs it never saw, whatever the time of day: a
/// recalibrated or swapped sensor is caught within two hours instead of after a day. One hour
/// alone is not enough: the first hour after a gateway starts has lag features without their
/// history.
pub fn drift(
    references: &[FeatureReference],
    live: &BTreeMap<String, Vec<FeatureWindow>>,
    last_two_hours: [&[FeatureWindow]; 2],
    span: (DateTime<Utc>, DateTime<Utc>),
    reference_name: &str,
    thresholds: &DriftThresholds,
) -> (Verdict, Vec<FeatureDrift>) {
    let outside = outside_training_range(references, last_two_hours, span, reference_name);
    let verdicts: Vec<FeatureDrift> = references
        .iter()
        .filter_map(|reference| {
            let windows = live.get(&reference.name)?;
            feature_drift(reference, &combined(windows)?, thresholds)
        })
        .collect();
    let evidence = |drift: &FeatureDrift, statistic: &str, value: f64, threshold: f64| Evidence {
        statistic: statistic.into(),
        value,
        threshold,
        window_start: span.0,
        window_end: span.1,
        samples: drift.values,
        reference_samples: drift.reference_rows,
        reference: reference_name.into(),
        features: vec![drift.feature.clone()],
    };
    let moved: Vec<Evidence> = verdicts
        .iter()
        .filter(|d| d.drifted)
        .flat_map(|d| {
            [
                evidence(d, "psi", d.psi, thresholds.psi),
                evidence(d, "wasserstein_std", d.wasserstein, thresholds.wasserstein),
            ]
        })
        .collect();
    let clearly_back = |d: &FeatureDrift| {
        d.psi < thresholds.psi / 2.0 || d.wasserstein < thresholds.wasserstein / 2.0
    };
    let verdict = if !moved.is_empty() || !outside.is_empty() {
        Verdict::Alarm(moved.into_iter().chain(outside).collect())
    } else if !verdicts.is_empty() && verdicts.iter().all(clearly_back) {
        let calmest = verdicts
            .iter()
            .map(|d| evidence(d, "psi", d.psi, thresholds.psi / 2.0))
            .collect();
        Verdict::Clear(calmest)
    } else {
        Verdict::Unsure
    };
    (verdict, verdicts)
}

/// Share of an hour's values outside the training range that alarms on its own.
pub const OUT_OF_RANGE_SHARE: f64 = 0.5;
/// Fewest values an hour needs for that.
pub const OUT_OF_RANGE_MIN_VALUES: u64 = 6;

/// The share of a window's values outside the training range, if it has enough values.
fn outside_share(window: &FeatureWindow) -> Option<f64> {
    let values = window.values();
    let outside = window.below_range + window.above_range;
    (values >= OUT_OF_RANGE_MIN_VALUES).then(|| outside as f64 / values as f64)
}

fn outside_training_range(
    references: &[FeatureReference],
    [before, this_hour]: [&[FeatureWindow]; 2],
    span: (DateTime<Utc>, DateTime<Utc>),
    reference_name: &str,
) -> Vec<Evidence> {
    references
        .iter()
        .filter_map(|reference| {
            let of =
                |hour: &[FeatureWindow]| hour.iter().find(|w| w.name == reference.name).cloned();
            let (earlier, latest) = (of(before)?, of(this_hour)?);
            let share = outside_share(&latest)?.min(outside_share(&earlier)?);
            let values = latest.values() + earlier.values();
            (share > OUT_OF_RANGE_SHARE).then(|| Evidence {
                statistic: "outside_training_range_share".into(),
                value: share,
                threshold: OUT_OF_RANGE_SHARE,
                window_start: span.1 - Duration::hours(2),
                window_end: span.1,
                samples: values,
                reference_samples: reference.rows,
                reference: format!(
                    "{reference_name}: range {:.1} to {:.1}",
                    reference.min, reference.max
                ),
                features: vec![reference.name.clone()],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
