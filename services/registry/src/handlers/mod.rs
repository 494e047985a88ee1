//! One file per way work reaches the registry: completed training runs (registration), its
//! operator commands and queries (the micro service). Its own events reach the projection
//! through the event-sourcing kit's consumer.

pub mod commands;
pub mod completions;
pub mod service;
