//! One file per way work reaches deployment: operator commands and queries (the micro
//! service), devices' reports, forwarded forecasts and the clock (the evaluator judging gates).

pub mod commands;
pub mod evaluator;
pub mod forecasts;
pub mod reports;
pub mod service;
