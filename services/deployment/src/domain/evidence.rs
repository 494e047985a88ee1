//! From measured rows to a wave's [`Evidence`]. The service's query sums squared errors of
//! forecasts joined with actuals per device, version and side of the wave's start; here those
//! sums become the new version's and the previous versions' live errors.
//!
//! - New version: forecasts of the rollout's version by the current wave's devices, received
//!   since the wave started.
//! - Previous: forecasts of each target's previous version (0, persistence, for a device that
//!   had no model) by any target, received in the window before the wave started or since:
//!   devices not yet switched, and the wave's own devices before their switch.

use std::collections::{BTreeMap, BTreeSet};

use super::events::{DeviceKey, Started};
use super::gates::{Evidence, LiveError};
use super::rollout::Rollout;

/// One group of joined forecasts.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRow {
    pub device: DeviceKey,
    /// 0 for persistence.
    pub version: u32,
    /// Received after the current wave started.
    pub since_wave: bool,
    pub forecasts: u64,
    /// Sum of squared (forecast - actual).
    pub sum_sq: f64,
}

#[derive(Default)]
struct Sum {
    forecasts: u64,
    sum_sq: f64,
}

impl Sum {
    fn add(&mut self, row: &ErrorRow) {
        self.forecasts += row.forecasts;
        self.sum_sq += row.sum_sq;
    }

    fn live(&self) -> LiveError {
        let rmse = match self.forecasts {
            0 => 0.0,
            n => (self.sum_sq / n as f64).sqrt(),
        };
        LiveError {
            rmse,
            forecasts: self.forecasts,
        }
    }
}

/// (new version, previous versions) over `rows`, for the wave of `wave_devices`.
pub fn live_errors(
    rows: &[ErrorRow],
    started: &Started,
    wave_devices: &[DeviceKey],
) -> (LiveError, LiveError) {
    let wave: BTreeSet<&DeviceKey> = wave_devices.iter().collect();
    let previous: BTreeMap<&DeviceKey, u32> = started
        .targets
        .iter()
        .zip(&started.previous)
        .map(|(device, version)| (device, version.unwrap_or(0)))
        .collect();
    let (mut new, mut old) = (Sum::default(), Sum::default());
    for row in rows {
        if row.version == started.version {
            if row.since_wave && wave.contains(&row.device) {
                new.add(row);
            }
        } else if previous.get(&row.device) == Some(&row.version) {
            old.add(row);
        }
    }
    (new.live(), old.live())
}

/// The evidence for the current wave: its acknowledgements from the aggregate, the time it
/// has served, and the live errors when they were measured (see
/// [`needs_live_error`](super::gates::needs_live_error)).
pub fn evidence(
    rollout: &Rollout,
    elapsed_secs: u64,
    errors: Option<(LiveError, LiveError)>,
) -> Evidence {
    let (applied, failed) = rollout.wave_reports();
    Evidence {
        applied,
        failed,
        elapsed_secs,
        new_version: errors.map(|e| e.0),
        // Never `None` when measured: persistence stands in for "no model before".
        previous_version: Some(errors.map_or(
            LiveError {
                rmse: 0.0,
                forecasts: 0,
            },
            |e| e.1,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{GateSettings, Strategy};

    fn started() -> Started {
        Started {
            rollout: uuid::Uuid::nil(),
            model: "co2".into(),
            version: 2,
            targets: vec!["s:a".into(), "s:b".into(), "s:c".into()],
            previous: vec![Some(1), Some(1), None],
            strategy: Strategy::default(),
            gates: GateSettings::default(),
        }
    }

    fn row(device: &str, version: u32, since_wave: bool, forecasts: u64, sum_sq: f64) -> ErrorRow {
        ErrorRow {
            device: device.into(),
            version,
            since_wave,
            forecasts,
            sum_sq,
        }
    }

    #[test]
    fn the_wave_is_judged_against_the_targets_previous_versions() {
        let rows = [
            // The canary, s:a, on v2 since the wave started: 4 forecasts each off by 10.
            row("s:a", 2, true, 4, 400.0),
            // s:a on v1 before its switch, s:b still on v1, s:c on persistence.
            row("s:a", 1, false, 2, 8.0),
            row("s:b", 1, true, 2, 8.0),
            row("s:c", 0, true, 4, 16.0),
            // Not counted: v2 outside the wave, persistence of a device that had v1.
            row("s:b", 2, true, 5, 1e6),
            row("s:b", 0, true, 5, 1e6),
        ];
        let (new, previous) = live_errors(&rows, &started(), &["s:a".to_owned()]);
        assert_eq!(new.forecasts, 4);
        assert!((new.rmse - 10.0).abs() < 1e-9);
        assert_eq!(previous.forecasts, 8);
        assert!((previous.rmse - 2.0).abs() < 1e-9);
    }

    #[test]
    fn no_rows_is_no_forecasts_not_a_perfect_score_to_beat() {
        let (new, previous) = live_errors(&[], &started(), &["s:a".to_owned()]);
        assert_eq!((new.forecasts, previous.forecasts), (0, 0));
    }
}
