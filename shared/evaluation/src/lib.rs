//! Live forecast evaluation, defined once: deployment's rollout gates and monitoring use it.
//! Pure (no I/O): callers fetch forecasts, readings and window summaries, this crate says which
//! forecasts are judged, against what, what the paired errors show, and whether inputs or
//! errors drifted.
//!
//! | module         | holds                                                                   |
//! |----------------|-------------------------------------------------------------------------|
//! | [`pairing`]    | a candidate forecast paired with its actual and persistence's forecast |
//! | [`paired`]     | the paired squared errors summed up, with their long-run variances     |
//! | [`rule`]       | the decision: pass, fail or undecided, and the words for it             |
//! | [`drift`]      | data drift: a feature's live window against its training reference      |
//! | [`sequential`] | concept drift: Page-Hinkley on the standardised paired error            |
//!
//! **The definition.** For each forecast of the candidate (device, origin bin `o`, target bin
//! `t = o + h` bins of the model's feature spec):
//! - the **actual** is the value of bin `t` as the model's own feature pipeline computes it
//!   ([`edgeops_features::bin_values`]: the samples averaged into bins, cleaned, short gaps
//!   filled), i.e. the label training would have given that example;
//! - the **baseline** is persistence for the same device, origin and horizon: the value of bin
//!   `o` from the same bins. It is computed here, not taken from the gateways' persistence
//!   forecasts, which a device with a model no longer sends (and which ran at another horizon);
//! - a forecast is **judged** once its actual is known: some sample lies at or after the end of
//!   bin `t` (the bin is closed as far as the data show) and both bins have a value.
//!
//! The loss is the squared error. Per judged forecast, `c` = candidate's squared error and
//! `b` = persistence's; the rule compares the means with two one-sided tests at 95 % on the
//! paired differences `c - θ·b` (Diebold–Mariano with a Newey–West variance, since forecasts
//! of overlapping horizons share their errors), see [`rule`].

pub mod drift;
pub mod paired;
pub mod pairing;
pub mod rule;
pub mod sequential;

#[cfg(test)]
mod drift_calibration;
#[cfg(test)]
mod live_tests;
#[cfg(test)]
mod noise;
#[cfg(test)]
mod proptests;

pub use drift::{DriftThresholds, FeatureDrift, feature_drift};
pub use paired::Comparison;
pub use pairing::{Forecast, Pair, Pairing, pair_device};
pub use rule::{Decision, Outcome, Rule, Z_ONE_SIDED_95, decide};
pub use sequential::PageHinkley;
