//! A rollout's status as `status` answers it: per wave, how many devices, how many applied
//! or failed, and where the wave stands. Read from the rollout's events, so it is exact at the
//! sequence it names.

use uuid::Uuid;

use crate::domain::wave_devices;
use edgeops_deployment_api::Status;
use edgeops_deployment_api::{RolloutStatus, WaveState, WaveStatus};
use edgeops_eventsourcing::Loaded;

use crate::domain::Rollout;
use crate::rollouts::RolloutRecord;

pub fn status_of(id: Uuid, loaded: &Loaded<Rollout>) -> Option<RolloutStatus> {
    let rollout = &loaded.state;
    let (started, status) = (rollout.started.as_ref()?, rollout.status?);
    let waves = started
        .strategy
        .cumulative_counts(started.targets.len())
        .len();
    let waves = (0..waves)
        .map(|wave| {
            let devices = wave_devices(&started.targets, &started.strategy, wave);
            let applied = devices
                .iter()
                .filter(|d| rollout.applied.contains(*d))
                .count();
            let failed = devices
                .iter()
                .filter(|d| rollout.failed.contains_key(*d))
                .count();
            let switched = wave <= rollout.wave && !rollout.switched.is_empty();
            let state = match (switched, status) {
                (false, _) => WaveState::Pending,
                (true, Status::RolledBack) => WaveState::RolledBack,
                (true, Status::Cancelled) => WaveState::Kept,
                (true, Status::Completed) => WaveState::Passed,
                (true, Status::Running | Status::Paused) if wave < rollout.wave => {
                    WaveState::Passed
                }
                (true, Status::Running | Status::Paused) => WaveState::Serving,
            };
            WaveStatus {
                wave,
                devices: devices.len(),
                applied,
                failed,
                state,
            }
        })
        .collect();
    Some(RolloutStatus {
        rollout: id,
        model: started.model.clone(),
        version: started.version,
        status,
        wave: rollout.wave,
        waves,
        targets: started.targets.len(),
        strategy: started.strategy.clone(),
        gates: started.gates.clone(),
        started_at: loaded.started_at(),
        started_by: loaded.started_by(),
        sequence: loaded.last_sequence,
        history: loaded.history_entries(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use edgeops_deployment_api::{GateSettings, Strategy};

    use crate::domain::{Command, Rollout, apply, decide};

    #[test]
    fn waves_show_counts_and_where_each_stands() {
        let targets = (0..10)
            .map(|i| (format!("s:d{i}"), None))
            .collect::<BTreeMap<_, _>>();
        let command = Command::Start {
            rollout: Uuid::nil(),
            model: "co2".into(),
            version: 1,
            targets,
            strategy: Strategy::default(),
            gates: GateSettings::default(),
            unfinished: BTreeMap::new(),
        };
        let events = decide(&Rollout::default(), command).unwrap();
        let mut state = events.iter().fold(Rollout::default(), apply);
        let applied = decide(
            &state,
            Command::RecordApplied {
                device: "s:d0".into(),
                version: 1,
            },
        )
        .unwrap();
        state = applied.iter().fold(state, apply);
        let loaded = Loaded {
            state,
            last_sequence: 3,
            ..Loaded::default()
        };
        let status = status_of(Uuid::nil(), &loaded).unwrap();
        let counts: Vec<_> = status
            .waves
            .iter()
            .map(|w| (w.devices, w.applied, w.state))
            .collect();
        assert_eq!(
            counts,
            [
                (1, 1, WaveState::Serving),
                (4, 0, WaveState::Pending),
                (5, 0, WaveState::Pending)
            ]
        );
        assert_eq!(status.sequence, 3);
    }
}
