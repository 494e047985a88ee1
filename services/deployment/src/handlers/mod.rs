//! One file per way work reaches deployment: operator commands and queries (the micro
//! service), devices' reports, forwarded forecasts, its own events (the projection), and the
//! clock (the evaluator judging gates).

pub mod commands;
pub mod evaluator;
pub mod forecasts;
pub mod projection;
pub mod reports;
pub mod service;
