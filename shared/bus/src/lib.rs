//! Everything that touches NATS on behalf of a service: connecting (with connection events
//! logged), declarative provisioning of JetStream resources, publishing events with
//! de-duplication and optimistic concurrency, dead-lettering, and the consumer runner.

pub mod connect;
pub mod consumer;
pub mod dead_letter;
pub mod history;
pub mod provision;
pub mod publish;
pub mod service;
pub mod sites;
pub mod topology;

pub use connect::{ConnectError, connect};
pub use consumer::{
    BatchHandler, ConsumerRunner, Outcome, RefusedReading, RunnerConfig, RunnerError,
};
pub use dead_letter::{DeadLetterSink, publish_dead_letter, publish_record};
pub use history::{HistoryError, read_subject, read_subject_after};
pub use provision::{ProvisionError, ProvisionReport, Topology, provision};
pub use publish::{PublishEventError, publish_event};
pub use service::CallError;

pub use async_nats;

/// Header names the project sets on its messages, besides NATS' own.
pub mod headers {
    pub const REASON: &str = "Edgeops-Reason";
    pub const SOURCE_STREAM: &str = "Edgeops-Source-Stream";
    pub const SOURCE_SEQUENCE: &str = "Edgeops-Source-Sequence";
}
