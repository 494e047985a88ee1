//! The deployment service's pure rules: wave planning, health gates, the rollout aggregate.

pub mod events;
pub mod gates;
pub mod plan;
pub mod rollout;

pub use events::{AGGREGATE_KIND, DeviceKey, RolloutEvent, Started};
pub use gates::{Evidence, GateSettings, LiveError, Verdict, judge};
pub use plan::{PlanError, Strategy, wave_devices};
pub use rollout::{Command, Rollout, RolloutError, Status, apply, decide};
