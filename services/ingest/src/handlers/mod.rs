//! One file per kind of input ingest handles.

pub mod aggregates;
pub mod lag;
pub mod readings;
pub mod sites;
