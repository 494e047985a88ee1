//! Monitoring's I/O: the summaries consumer, the site-link watch, the incident projection and
//! the micro service.

pub mod dead_letters;
pub mod incidents;
pub mod projection;
pub mod references;
pub mod service;
pub mod summaries;
pub mod watch;
