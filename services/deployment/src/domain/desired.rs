//! What a rollout wants each device's desired state to be, and what to write to get there.
//! Derived from the aggregate alone, so the same answer comes out after a restart: writing it
//! again is harmless, and a restart mid-wave finishes the writes the crash cut short.

use uuid::Uuid;

use super::events::DeviceKey;
use edgeops_deployment_api::Status;

use super::rollout::Rollout;

/// One device's intended desired state under a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// The rollout's new version.
    New,
    /// Back to what the device served before (`None`: no model, the key is deleted).
    Previous(Option<u32>),
}

/// The desired state a device's key holds now, as far as a rollout cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub rollout: Option<Uuid>,
    pub version: u32,
}

/// What to write to one device's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Nothing,
    /// Put this version (under the rollout's id).
    Put(u32),
    /// Delete the key: the device forecasts persistence again.
    Delete,
}

/// Every switched device and what the rollout intends for it: the new version while the
/// rollout runs, is paused, completed or cancelled; the previous one once rolled back.
pub fn intents(rollout: &Rollout) -> Vec<(DeviceKey, Intent)> {
    let Some(started) = &rollout.started else {
        return Vec::new();
    };
    let rolled_back = rollout.status == Some(Status::RolledBack);
    rollout
        .switched
        .iter()
        .map(|device| {
            let intent = if rolled_back {
                let previous = started
                    .targets
                    .iter()
                    .position(|t| t == device)
                    .and_then(|i| started.previous.get(i).copied())
                    .flatten();
                Intent::Previous(previous)
            } else {
                Intent::New
            };
            (device.clone(), intent)
        })
        .collect()
}

/// What to write for `intent`, given what the key holds. A rollback only takes back what this
/// rollout put there: a key that moved on since (an operator, a later rollout) is left alone.
pub fn write_for(intent: Intent, rollout: Uuid, new_version: u32, held: Option<Held>) -> Write {
    let ours_new = held.is_some_and(|h| h.rollout == Some(rollout) && h.version == new_version);
    match intent {
        Intent::New if ours_new => Write::Nothing,
        Intent::New => Write::Put(new_version),
        Intent::Previous(_) if !ours_new => Write::Nothing,
        // The device served this very version before: nothing to take back.
        Intent::Previous(Some(previous)) if previous == new_version => Write::Nothing,
        Intent::Previous(Some(previous)) => Write::Put(previous),
        Intent::Previous(None) => Write::Delete,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use edgeops_deployment_api::{GateSettings, Strategy};

    use crate::domain::{Command, apply, decide};

    fn started() -> Rollout {
        let targets = BTreeMap::from([("s:a".to_owned(), Some(1)), ("s:b".to_owned(), None)]);
        let command = Command::Start {
            rollout: Uuid::nil(),
            model: "co2".into(),
            version: 2,
            targets,
            strategy: Strategy {
                canary_share: 1.0,
                waves: vec![],
            },
            gates: GateSettings::default(),
            unfinished: BTreeMap::new(),
        };
        let events = decide(&Rollout::default(), command).unwrap();
        events.iter().fold(Rollout::default(), apply)
    }

    #[test]
    fn switched_devices_want_the_new_version_until_rolled_back() {
        let rollout = started();
        assert_eq!(
            intents(&rollout),
            [("s:a".into(), Intent::New), ("s:b".into(), Intent::New)]
        );
        let events = decide(&rollout, Command::Rollback { reason: "r".into() }).unwrap();
        let rolled_back = events.iter().fold(rollout, apply);
        assert_eq!(
            intents(&rolled_back),
            [
                ("s:a".into(), Intent::Previous(Some(1))),
                ("s:b".into(), Intent::Previous(None))
            ]
        );
    }

    #[test]
    fn writes_are_idempotent_and_a_rollback_takes_back_only_its_own() {
        let id = Uuid::from_u128(7);
        let ours = Some(Held {
            rollout: Some(id),
            version: 2,
        });
        let other = Some(Held {
            rollout: Some(Uuid::from_u128(8)),
            version: 3,
        });
        assert_eq!(write_for(Intent::New, id, 2, None), Write::Put(2));
        assert_eq!(write_for(Intent::New, id, 2, ours), Write::Nothing);
        assert_eq!(write_for(Intent::New, id, 2, other), Write::Put(2));
        assert_eq!(
            write_for(Intent::Previous(Some(1)), id, 2, ours),
            Write::Put(1)
        );
        assert_eq!(
            write_for(Intent::Previous(None), id, 2, ours),
            Write::Delete
        );
        let back = Some(Held {
            rollout: Some(id),
            version: 1,
        });
        assert_eq!(
            write_for(Intent::Previous(Some(1)), id, 2, back),
            Write::Nothing
        );
        assert_eq!(
            write_for(Intent::Previous(None), id, 2, None),
            Write::Nothing
        );
        assert_eq!(
            write_for(Intent::Previous(Some(1)), id, 2, other),
            Write::Nothing
        );
    }
}
