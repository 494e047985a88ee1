//! A wave's [`Evidence`]: its acknowledgements from the aggregate, the time it has served, and
//! its live forecasts paired with persistence when they were measured.
//!
//! What is measured: forecasts of the rollout's version by the current wave's devices, received
//! since the wave started, each paired (`edgeops_evaluation`) with its actual and with
//! persistence for the same device, origin and horizon, computed on the hub from the same bins.
//! The previous version's own forecasts are not the baseline: a device serves one version at a
//! time, so none of them was made at the same origin as the new version's.

use edgeops_evaluation::Comparison;

use super::gates::Evidence;
use super::rollout::Rollout;

/// The evidence for the current wave (see [`needs_live_error`](super::gates::needs_live_error)
/// for when `live` is measured).
pub fn evidence(rollout: &Rollout, elapsed_secs: u64, live: Option<Comparison>) -> Evidence {
    let (applied, failed) = rollout.wave_reports();
    Evidence {
        applied,
        failed,
        elapsed_secs,
        live,
    }
}
