//! Window summaries at the edge: per device and hour of target time, the paired live error of
//! each model version, the readings' count and stuck metrics, and the serving model's inputs
//! on its training reference, computed from every raw reading and every forecast the gateway
//! made, and sent to the hub store-and-forward (see "Window summaries at the edge" in
//! docs/architecture.md).
//!
//! | module         | holds                                                                  |
//! |----------------|------------------------------------------------------------------------|
//! | [`window`]     | windows of target time and when one is emitted (pure)                  |
//! | [`device`]     | one device's open windows and their figures (pure)                     |
//! | [`features`]   | live feature rows on a reference's bins (pure)                         |
//! | [`summaries`]  | the site's open windows, clocks, emission and restart checkpoint (pure) |
//! | [`summarizer`] | local streams in, summaries stored at the site                         |
//! | [`forwarder`]  | summaries from the site to the hub                                     |

pub mod device;
pub mod features;
pub mod forwarder;
pub mod summaries;
pub mod summarizer;
pub mod window;

pub use forwarder::SummaryForwarder;
pub use summaries::{Checkpoint, Summaries};
pub use summarizer::Summarizer;

#[cfg(test)]
mod tests;
