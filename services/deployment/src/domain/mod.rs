//! The deployment service's pure rules: wave planning, health gates, the rollout aggregate,
//! target selection, the desired state a rollout implies, and evidence from measured errors.

pub mod aggregate;
pub mod desired;
pub mod events;
pub mod evidence;
pub mod gates;
pub mod plan;
pub mod rollout;
pub mod targets;

pub use aggregate::upcasters;
pub use desired::{Held, Intent, Write, intents, write_for};
pub use events::{AGGREGATE_KIND, DeviceKey, RolloutEvent, Started};
pub use evidence::evidence;
pub use gates::{Evidence, Verdict, judge, needs_live_error};
pub use plan::wave_devices;
pub use rollout::{Command, Rollout, RolloutError, apply, decide};
pub use targets::{Current, KnownSite, TargetError, parse_device_key};
