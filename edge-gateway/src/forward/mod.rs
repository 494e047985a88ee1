//! Store-and-forward from the site's local stream to the hub.

pub mod cursor;
pub mod forwarder;
pub mod refusal;
pub mod resend;

pub use forwarder::{Forwarder, ForwarderStats};
