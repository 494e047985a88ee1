//! Store-and-forward from the site's local stream to the hub: the reduction stage records what
//! the policy lets through at the site, the forwarder sends it.

pub mod batch;
pub mod cursor;
pub mod forwarder;
pub mod reduce;
pub mod refusal;
pub mod resend;
mod send;

pub use forwarder::{Forwarder, ForwarderStats};
pub use reduce::ReductionStage;
