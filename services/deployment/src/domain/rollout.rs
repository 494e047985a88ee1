//! The rollout aggregate: `decide(&Rollout, Command) -> events`, `apply(Rollout, &event)`.
//! Pure: the service measures (acks, live errors, elapsed time) and passes the evidence in.
//!
//! Running: wave 0 (canary) is switched at start; each wave is judged by its gate; a pass
//! switches the next wave (or completes), a fail rolls every switched device back. Operators may
//! pause (no wave advances, the gate still fails a bad wave), resume, cancel (switched devices
//! stay as they are), or roll back by hand.

use std::collections::{BTreeMap, BTreeSet};

use edgeops_deployment_api::Status;
use uuid::Uuid;

use super::events::{DeviceKey, RolloutEvent, Started};
use edgeops_deployment_api::{GateSettings, PlanError, Strategy};

use super::gates::{Evidence, Verdict, judge};
use super::plan::wave_devices;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rollout {
    pub started: Option<Started>,
    pub status: Option<Status>,
    /// Current wave (0 = canary).
    pub wave: usize,
    pub applied: BTreeSet<DeviceKey>,
    pub failed: BTreeMap<DeviceKey, String>,
    /// Devices switched to the new version so far (all waves up to the current one).
    pub switched: Vec<DeviceKey>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Start rolling `model` `version` out to `targets` (each with its previous version), given
    /// the rollouts that are still unfinished (a device may be in one at a time).
    Start {
        rollout: Uuid,
        model: String,
        version: u32,
        targets: BTreeMap<DeviceKey, Option<u32>>,
        strategy: Strategy,
        gates: GateSettings,
        unfinished: BTreeMap<Uuid, Started>,
    },
    RecordApplied {
        device: DeviceKey,
        version: u32,
    },
    RecordFailed {
        device: DeviceKey,
        version: u32,
        reason: String,
    },
    Evaluate(Evidence),
    Pause,
    Resume,
    Cancel {
        reason: String,
    },
    Rollback {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RolloutError {
    #[error("rollout already started")]
    AlreadyStarted,
    #[error("no such rollout")]
    NotStarted,
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("max_error_ratio must be a positive number, got {0}")]
    MaxErrorRatio(f64),
    #[error(
        "device {device} is in unfinished rollout {other} ({model} v{version}); wait for it, or cancel it"
    )]
    Overlap {
        device: DeviceKey,
        other: Uuid,
        model: String,
        version: u32,
    },
    #[error("rollout is {0:?}: {1}")]
    WrongStatus(Status, &'static str),
}

impl Rollout {
    /// Completed, rolled back or cancelled: nothing more happens to it.
    pub fn is_finished(&self) -> bool {
        matches!(
            self.status,
            Some(Status::Completed | Status::RolledBack | Status::Cancelled)
        )
    }

    pub fn current_wave_devices(&self) -> &[DeviceKey] {
        match &self.started {
            Some(s) => wave_devices(&s.targets, &s.strategy, self.wave),
            None => &[],
        }
    }

    fn last_wave(&self) -> usize {
        self.started.as_ref().map_or(0, |s| {
            s.strategy
                .cumulative_counts(s.targets.len())
                .len()
                .saturating_sub(1)
        })
    }

    /// (applied, failed) among the current wave's devices.
    pub fn wave_reports(&self) -> (usize, usize) {
        let devices = self.current_wave_devices();
        let applied = devices.iter().filter(|d| self.applied.contains(*d)).count();
        let failed = devices
            .iter()
            .filter(|d| self.failed.contains_key(*d))
            .count();
        (applied, failed)
    }
}

fn live(rollout: &Rollout) -> Result<(&Started, Status), RolloutError> {
    match (&rollout.started, rollout.status) {
        (Some(started), Some(status)) => Ok((started, status)),
        _ => Err(RolloutError::NotStarted),
    }
}

fn is_finished(status: Status) -> bool {
    matches!(
        status,
        Status::Completed | Status::RolledBack | Status::Cancelled
    )
}

/// A gate must be able to pass: its error ratio is a positive number.
fn check_gates(gates: &GateSettings) -> Result<(), RolloutError> {
    match gates.max_error_ratio.is_finite() && gates.max_error_ratio > 0.0 {
        true => Ok(()),
        false => Err(RolloutError::MaxErrorRatio(gates.max_error_ratio)),
    }
}

/// A device may be in one unfinished rollout at a time: two would fight over its key. The
/// first target (in key order) of the first such rollout (in id order) is named.
fn check_overlap(
    targets: &BTreeMap<DeviceKey, Option<u32>>,
    unfinished: &BTreeMap<Uuid, Started>,
) -> Result<(), RolloutError> {
    for (other, started) in unfinished {
        if let Some(device) = targets.keys().find(|k| started.targets.contains(k)) {
            return Err(RolloutError::Overlap {
                device: device.clone(),
                other: *other,
                model: started.model.clone(),
                version: started.version,
            });
        }
    }
    Ok(())
}

pub fn decide(rollout: &Rollout, command: Command) -> Result<Vec<RolloutEvent>, RolloutError> {
    if let Command::Start {
        rollout: id,
        model,
        version,
        targets,
        strategy,
        gates,
        unfinished,
    } = command
    {
        if rollout.started.is_some() {
            return Err(RolloutError::AlreadyStarted);
        }
        strategy.validate()?;
        check_gates(&gates)?;
        if targets.is_empty() {
            return Err(PlanError::NoTargets.into());
        }
        check_overlap(&targets, &unfinished)?;
        let (targets, previous): (Vec<_>, Vec<_>) = targets.into_iter().unzip();
        let canary = wave_devices(&targets, &strategy, 0).to_vec();
        let started = Started {
            rollout: id,
            model,
            version,
            targets,
            previous,
            strategy,
            gates,
        };
        return Ok(vec![
            RolloutEvent::Started(started),
            RolloutEvent::WaveAdvanced {
                wave: 0,
                devices: canary,
            },
        ]);
    }
    let (started, status) = live(rollout)?;
    match command {
        Command::Start { .. } => Err(RolloutError::AlreadyStarted),
        Command::RecordApplied { device, version } => Ok((version == started.version
            && !rollout.applied.contains(&device)
            && !is_finished(status))
        .then_some(RolloutEvent::DeviceApplied { device })
        .into_iter()
        .collect()),
        Command::RecordFailed {
            device,
            version,
            reason,
        } => Ok((version == started.version
            && !rollout.failed.contains_key(&device)
            && !is_finished(status))
        .then_some(RolloutEvent::DeviceFailed { device, reason })
        .into_iter()
        .collect()),
        Command::Evaluate(evidence) => Ok(evaluate(rollout, started, status, &evidence)),
        Command::Pause if status == Status::Running => Ok(vec![RolloutEvent::Paused]),
        Command::Pause => Err(RolloutError::WrongStatus(
            status,
            "only a running rollout pauses",
        )),
        Command::Resume if status == Status::Paused => Ok(vec![RolloutEvent::Resumed]),
        Command::Resume => Err(RolloutError::WrongStatus(
            status,
            "only a paused rollout resumes",
        )),
        Command::Cancel { reason } if !is_finished(status) => {
            Ok(vec![RolloutEvent::Cancelled { reason }])
        }
        Command::Rollback { reason } if !matches!(status, Status::RolledBack) => {
            Ok(vec![RolloutEvent::RolledBack {
                devices: rollout.switched.clone(),
                reason,
            }])
        }
        Command::Cancel { .. } | Command::Rollback { .. } => Err(RolloutError::WrongStatus(
            status,
            "the rollout is already finished",
        )),
    }
}

fn evaluate(
    rollout: &Rollout,
    started: &Started,
    status: Status,
    evidence: &Evidence,
) -> Vec<RolloutEvent> {
    if is_finished(status) {
        return vec![];
    }
    let wave = rollout.wave;
    match judge(
        &started.gates,
        rollout.current_wave_devices().len(),
        evidence,
    ) {
        Verdict::Wait { .. } => vec![],
        Verdict::Fail { reason } => vec![
            RolloutEvent::GateFailed {
                wave,
                reason: reason.clone(),
            },
            RolloutEvent::RolledBack {
                devices: rollout.switched.clone(),
                reason: format!("gate of wave {wave} failed: {reason}"),
            },
        ],
        // A paused rollout is still protected by its gate, but does not advance.
        Verdict::Pass { .. } if status == Status::Paused => vec![],
        Verdict::Pass { summary } => {
            let mut events = vec![RolloutEvent::GatePassed { wave, summary }];
            if wave >= rollout.last_wave() {
                events.push(RolloutEvent::Completed);
            } else {
                events.push(RolloutEvent::WaveAdvanced {
                    wave: wave + 1,
                    devices: wave_devices(&started.targets, &started.strategy, wave + 1).to_vec(),
                });
            }
            events
        }
    }
}

pub fn apply(mut rollout: Rollout, event: &RolloutEvent) -> Rollout {
    match event {
        RolloutEvent::Started(started) => {
            rollout.started = Some(started.clone());
            rollout.status = Some(Status::Running);
        }
        RolloutEvent::WaveAdvanced { wave, devices } => {
            rollout.wave = *wave;
            rollout.switched.extend(devices.iter().cloned());
        }
        RolloutEvent::DeviceApplied { device } => {
            rollout.applied.insert(device.clone());
        }
        RolloutEvent::DeviceFailed { device, reason } => {
            rollout.failed.insert(device.clone(), reason.clone());
        }
        RolloutEvent::GatePassed { .. } | RolloutEvent::GateFailed { .. } => {}
        RolloutEvent::RolledBack { .. } => rollout.status = Some(Status::RolledBack),
        RolloutEvent::Paused => rollout.status = Some(Status::Paused),
        RolloutEvent::Resumed => rollout.status = Some(Status::Running),
        RolloutEvent::Cancelled { .. } => rollout.status = Some(Status::Cancelled),
        RolloutEvent::Completed => rollout.status = Some(Status::Completed),
    }
    rollout
}

#[cfg(test)]
mod tests;
