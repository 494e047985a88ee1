//! The edge reduction policy: what of a site's raw readings travels to the hub.
//!
//! Per device and metric, a value is forwarded when it moved more than the metric's dead-band
//! since the last forwarded value, when the metric has been silent longer than its heartbeat,
//! or when it is outside its alert band (anomalies always travel, with every metric of the
//! reading). One reading in `sample_one_in` travels whole, for training. Fields marked
//! local-only never leave the site. Window aggregates (min/max/mean/count) summarise what the
//! dead-band held back. Everything here is pure: the gateway feeds readings in order and
//! publishes what comes out.

pub mod aggregate;
pub mod pack;
pub mod plan;
pub mod policy;
pub mod record;
pub mod reducer;
pub mod set_aside;

pub use aggregate::WindowAggregate;
pub use pack::{HubMessage, PackLimits, pack};
pub use plan::{Body, Outgoing, SitePlanner, sequence_of_message_id};
pub use policy::{MetricRule, ReductionPolicy};
pub use reducer::{ForwardKind, Reduced, Reducer};
