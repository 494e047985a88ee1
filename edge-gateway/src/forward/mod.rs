//! Store-and-forward from the site's local stream to the hub.

pub mod cursor;
pub mod forwarder;
pub mod refusal;
pub mod resend;
mod send;

pub use forwarder::{Forwarder, ForwarderStats};
