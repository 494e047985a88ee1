//! The contracts every edgeops component shares: identifiers, subjects, readings, the event
//! envelope and its upcasting, dead-letter records. Pure types and rules: no I/O lives here,
//! so the edge, the hub services and the tests all agree on one definition.

pub mod aggregate;
pub mod compression;
pub mod dead_letter;
pub mod deployment;
pub mod digest;
pub mod envelope;
pub mod events;
pub mod ids;
pub mod manifest;
pub mod metric;
pub mod monitoring;
pub mod reading;
pub mod registry;
pub mod streams;
pub mod subjects;
pub mod training;
pub mod upcast;

pub use dead_letter::{DeadLetter, DeadLetterSource, RejectCode, Rejection};
pub use envelope::{Actor, EventEnvelope, EventMeta};
pub use ids::{DeviceId, IdError, SiteId};
pub use metric::{Metric, MetricCatalog};
pub use reading::{Reading, ReadingLimits};
