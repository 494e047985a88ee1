//! A wave's health gate settings, as an operator asks for them (the rules that apply them are
//! deployment's own).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateSettings {
    /// How long the wave must have served before it is judged, in seconds.
    pub window_secs: u64,
    /// Judged forecasts (paired with their actual and persistence) the wave needs before its
    /// live error decides anything; fewer is undecided, never a pass.
    /// 0: the gate judges acknowledgements only, never the live error.
    pub min_forecasts: u64,
    /// The wave passes once the new version's mean squared error is below this multiple of
    /// persistence's with 95 % confidence; it fails once it is worse than persistence's with
    /// 95 % confidence, whatever this says.
    pub max_error_ratio: f64,
    /// Devices that may fail to apply before the wave fails.
    pub max_failed_devices: usize,
    /// A wave whose devices have not all answered after this long fails, in seconds.
    pub apply_timeout_secs: u64,
}

impl Default for GateSettings {
    fn default() -> Self {
        Self {
            window_secs: 300,
            min_forecasts: 30,
            max_error_ratio: 1.05,
            max_failed_devices: 0,
            apply_timeout_secs: 120,
        }
    }
}

/// An undecided wave fails after this many windows: it never passes for want of evidence.
pub const UNDECIDED_WINDOWS: u64 = 4;
