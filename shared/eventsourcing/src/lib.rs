//! The event-sourcing kit every event-sourced service is written on.
//!
//! | module         | holds                                                                  |
//! |----------------|------------------------------------------------------------------------|
//! | [`aggregate`]  | the [`Aggregate`] and [`DomainEvent`] traits; decoding and folding     |
//! | [`provenance`] | actor, cause and flow of appended events, turned into envelopes        |
//! | [`retry`]      | what a conflicting append does next ([`Expect`]), as a pure policy     |
//! | [`store`]      | the [`EventStore`]: load, append with expected sequence, execute       |
//! | [`projection`] | Postgres read models: the [`Projection`] trait, its consumer, rebuild  |
//!
//! A new aggregate implements [`Aggregate`] (kind, command, event, error, `decide`, `apply`,
//! its upcasters) and [`DomainEvent`] for its event; `EventStore::<A>::new(js).handle(id,
//! command, ...)` then loads, decides, appends and retries. A read model implements
//! [`Projection`] and runs as a [`ProjectionConsumer`].

pub mod aggregate;
pub mod projection;
pub mod provenance;
pub mod retry;
pub mod store;

pub use aggregate::{
    Aggregate, DecodeError, DomainEvent, EventDecodeError, Loaded, Recorded, UnknownEvents,
    Unreadable, decode,
};
pub use projection::{
    Applied, Projection, ProjectionConsumer, ProjectionError, RebuildReport, apply_event, column,
    rebuild,
};
pub use provenance::{CauseOf, Provenance};
pub use retry::{Change, Expect, MovedOn, actor_name};
pub use store::{EventStore, ExecError, StoreError};
