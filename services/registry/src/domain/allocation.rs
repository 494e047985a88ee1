//! The `model` aggregate: it hands out version numbers. One instance per model name, on
//! `edgeops.events.model.<name>`, written with the expected last subject sequence, so two
//! registrations racing for the next number cannot both get it. Allocations are keyed by
//! training run: a completion delivered again (after a crash, or published twice) gets the
//! number its run already has, never a second version.

use std::collections::BTreeMap;

use edgeops_contracts::envelope::EventData;
use edgeops_contracts::upcast::Upcasters;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The envelope's `aggregate_kind` of a model's allocations; its `aggregate_id` is the name.
pub const MODEL_AGGREGATE: &str = "model";

/// Version `version` of the model now belongs to training run `run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionAllocated {
    pub version: u32,
    pub run: Uuid,
}

impl EventData for VersionAllocated {
    const EVENT_TYPE: &'static str = "model.version_allocated";
    const SCHEMA_VERSION: u32 = 1;
}

/// Declares the allocation event's current schema version.
pub fn register_allocation_upcasters(upcasters: Upcasters) -> Upcasters {
    upcasters.current(
        VersionAllocated::EVENT_TYPE,
        VersionAllocated::SCHEMA_VERSION,
    )
}

/// A model's allocations, folded from its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allocations {
    by_run: BTreeMap<Uuid, u32>,
    latest: u32,
}

/// What [`Allocations::allocate`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allocation {
    /// The run already has this version: nothing to record.
    Existing(u32),
    /// Record this event; its version is the run's.
    New(VersionAllocated),
}

impl Allocation {
    pub fn version(&self) -> u32 {
        match self {
            Allocation::Existing(version) => *version,
            Allocation::New(event) => event.version,
        }
    }
}

impl Allocations {
    /// Folds one event. A second allocation for a run (only a hand-written stream could hold
    /// one) does not replace the first: the first number is the one the run was told.
    pub fn apply(mut self, event: &VersionAllocated) -> Self {
        self.by_run.entry(event.run).or_insert(event.version);
        self.latest = self.latest.max(event.version);
        self
    }

    pub fn version_of(&self, run: Uuid) -> Option<u32> {
        self.by_run.get(&run).copied()
    }

    /// The highest version handed out; 0 while none is.
    pub fn latest(&self) -> u32 {
        self.latest
    }

    /// The run's version: the one it has, or the next number. `None` only when the model has
    /// used every `u32` version, which no real model will.
    pub fn allocate(&self, run: Uuid) -> Option<Allocation> {
        if let Some(version) = self.version_of(run) {
            return Some(Allocation::Existing(version));
        }
        let version = self.latest.checked_add(1)?;
        Some(Allocation::New(VersionAllocated { version, run }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn fold(events: &[VersionAllocated]) -> Allocations {
        events
            .iter()
            .fold(Allocations::default(), Allocations::apply)
    }

    #[test]
    fn numbers_start_at_one_and_follow_the_latest() {
        assert_eq!(
            Allocations::default().allocate(run(1)),
            Some(Allocation::New(VersionAllocated {
                version: 1,
                run: run(1)
            }))
        );
        let state = fold(&[
            VersionAllocated {
                version: 1,
                run: run(1),
            },
            VersionAllocated {
                version: 2,
                run: run(2),
            },
        ]);
        assert_eq!(state.allocate(run(3)).map(|a| a.version()), Some(3));
        assert_eq!(state.latest(), 2);
    }

    #[test]
    fn a_run_that_has_a_version_keeps_it() {
        let state = fold(&[
            VersionAllocated {
                version: 1,
                run: run(7),
            },
            VersionAllocated {
                version: 2,
                run: run(8),
            },
        ]);
        assert_eq!(state.allocate(run(7)), Some(Allocation::Existing(1)));
        // Even a stray second allocation for the run does not change its number.
        let state = state.apply(&VersionAllocated {
            version: 3,
            run: run(7),
        });
        assert_eq!(state.version_of(run(7)), Some(1));
        assert_eq!(state.allocate(run(9)).map(|a| a.version()), Some(4));
    }

    #[test]
    fn the_last_number_is_not_wrapped() {
        let state = fold(&[VersionAllocated {
            version: u32::MAX,
            run: run(1),
        }]);
        assert_eq!(state.allocate(run(2)), None);
    }
}
