//! One file per way work reaches the registry: completed training runs (registration), its
//! own events (the projection), operator commands and queries (the micro service).

pub mod commands;
pub mod completions;
pub mod projection;
pub mod service;
