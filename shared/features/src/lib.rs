//! Features, defined once. Preprocessing computes feature rows into its table; training reads
//! them; the edge gateway computes the same rows from its local readings before inference. The
//! model is fed identical vectors everywhere because this crate is the only definition.
//!
//! Rows are point in time: the row of a bin is computed from the samples before the bin's end
//! only, what is known when it closes. So the edge, holding only the samples up to now,
//! computes the row the hub stores, and no model input in training comes from after its bin.
//!
//! The pipeline, per device:
//! 1. `resample`: raw samples (irregular, possibly late or duplicated) into fixed-interval bins
//!    (mean per bin);
//! 2. `clean`: robust outlier rejection (Hampel filter) and physically impossible values out;
//! 3. gaps: up to `max_gap_bins` missing bins are filled (linearly, or by holding the last value
//!    for dead-band-reduced series) and flagged; longer gaps stay missing, so no row spans them;
//! 4. `rows`: lags, rolling statistics, time of day, cross-metric features, each row from steps
//!    1–3 over the samples before its bin's end (so a bin without a target sample has no row).
//!
//! `feature_reference` is a feature's distribution in the training rows (its deciles and
//! range), what live inputs are compared against.
//!
//! `bin_values` is steps 1–3 over all samples: a bin's value as finally known, for the live
//! actuals, which may use what came after.

pub mod clean;
pub mod reference;
pub mod resample;
pub mod rows;
pub mod spec;

pub use reference::feature_reference;
pub use rows::{FeatureRow, bin_values, compute_rows};
pub use spec::{FeatureSpec, GapFill};
