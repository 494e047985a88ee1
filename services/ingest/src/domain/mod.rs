//! ingest's pure rules: which messages become rows.

pub mod batch;
pub mod sites;
