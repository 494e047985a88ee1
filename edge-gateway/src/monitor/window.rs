//! Windows of target time and the rule that says when one may be emitted. Pure.

use chrono::{DateTime, Utc};
use edgeops_contracts::monitoring::WINDOW_SECS;
use edgeops_features::FeatureSpec;

/// The default window length in seconds: an hour (see `--summary-window-secs`).
pub const WINDOW: i64 = WINDOW_SECS as i64;

/// The start (unix seconds) of the window of `length` seconds holding `ts`.
pub fn window_of(ts: i64, length: i64) -> i64 {
    ts.saturating_sub(ts.rem_euclid(length.max(1)))
}

pub fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// When a window may be emitted.
///
/// The clocks are the site's own data, never the wall clock (a replay of past data, a site back
/// from an outage): the *site clock* is its latest raw reading's time, the *forecast clock* the
/// latest forecast origin it made. A window `[start, end)` is emitted once
/// - the site clock is at least `end + settle_secs`: every target bin of the window is closed
///   and its value final (a later sample can move a bin's cleaned value only within the Hampel
///   filter's half window, see [`settle_secs`]), so every forecast with a target in the window
///   is judgeable and label delay never counts as error; and
/// - when the gateway forecasts, the forecast clock is at least `end`, or the forecasts are
///   caught up (the summarizer read every forecast stored and none came for a while): the feed
///   forecasts in the order readings arrived, so once it made a forecast from the window's end
///   on, every forecast with a target (or an origin) in the window is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmissionRule {
    pub settle_secs: i64,
    pub wait_for_forecasts: bool,
    /// The windows' length in seconds.
    pub window_secs: i64,
}

impl EmissionRule {
    /// The instant every window ending at or before it may be emitted at; `None` before any
    /// reading, or while waiting for the first forecast.
    pub fn watermark(
        &self,
        site_clock: Option<i64>,
        forecast_clock: Option<i64>,
        forecasts_caught_up: bool,
    ) -> Option<i64> {
        let settled = site_clock?.saturating_sub(self.settle_secs);
        if !self.wait_for_forecasts || forecasts_caught_up {
            return Some(settled);
        }
        Some(settled.min(forecast_clock?))
    }
}

/// Seconds of site time after a window's end before its last target bin's value is final: the
/// bin itself plus the Hampel filter's half window (at least one bin).
pub fn settle_secs(spec: &FeatureSpec) -> i64 {
    let bins = i64::try_from(spec.hampel_half_window).unwrap_or(i64::MAX / 4) + 1;
    bins.saturating_mul(spec.interval_secs)
}

/// Seconds of samples kept before a window's start to judge its forecasts exactly: the horizon
/// back to the earliest origin, plus how far back a bin's value reaches (a filled gap, the
/// Hampel window).
pub fn margin_secs(spec: &FeatureSpec, horizon_bins: u32) -> i64 {
    let bins = i64::try_from(spec.reach_bins()).unwrap_or(i64::MAX / 4) + i64::from(horizon_bins);
    bins.saturating_mul(spec.interval_secs)
}
