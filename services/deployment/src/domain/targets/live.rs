//! When a device counts as live: a reading of it *arrived at the hub* within the window. Arrival
//! is ingest's `ingested_at`, stamped by the hub's Postgres clock, not the sensor's `observed_at`:
//! a backfill of last month's readings or a simulation running ahead of the wall clock says
//! nothing about whether the device is reporting now. A silent device makes a poor canary (it
//! produces no forecasts, so its gate fails with "too few forecasts"), so rollouts leave it out
//! and say so.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The window a device must have been heard within, unless the request or the service's
/// settings say otherwise: three times the sites' one-minute aggregate, with room for a
/// gateway's forwarding backlog after a short uplink outage.
pub const DEFAULT_LIVE_WITHIN: Duration = Duration::from_secs(15 * 60);

/// The liveness rule at one instant (the hub's `now`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    now: DateTime<Utc>,
    within: Duration,
}

impl Liveness {
    /// `None` for an empty window or one too long to subtract from `now`: neither is a rule.
    pub fn new(now: DateTime<Utc>, within: Duration) -> Option<Self> {
        if within.is_zero() {
            return None;
        }
        let live = Self { now, within };
        live.checked_since().map(|_| live)
    }

    fn checked_since(&self) -> Option<DateTime<Utc>> {
        let within = chrono::Duration::from_std(self.within).ok()?;
        self.now.checked_sub_signed(within)
    }

    /// The earliest arrival that still counts: the fleet query looks back this far.
    pub fn since(&self) -> DateTime<Utc> {
        // `new` checked the subtraction.
        self.checked_since().unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    pub fn within(&self) -> Duration {
        self.within
    }

    /// Live when the device's latest reading arrived at `since` or later; a device with no
    /// arrival in the window (`None`) is silent.
    pub fn is_live(&self, last_arrival: Option<DateTime<Utc>>) -> bool {
        last_arrival.is_some_and(|at| at >= self.since())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH
            + chrono::Duration::days(20_000)
            + chrono::Duration::minutes(minutes)
    }

    #[test]
    fn live_means_arrived_within_the_window_edge_included() {
        let live = Liveness::new(at(60), DEFAULT_LIVE_WITHIN).unwrap();
        assert_eq!(live.since(), at(45));
        assert!(live.is_live(Some(at(59))));
        assert!(live.is_live(Some(at(45))), "the edge counts");
        assert!(!live.is_live(Some(at(44))));
        assert!(!live.is_live(None), "nothing arrived in the window");
    }

    #[test]
    fn an_arrival_after_now_is_live() {
        // The hub's clock moved between the fleet query and `now`: still heard from.
        let live = Liveness::new(at(0), Duration::from_secs(60)).unwrap();
        assert!(live.is_live(Some(at(1))));
    }

    #[test]
    fn empty_or_unrepresentable_windows_are_no_rule() {
        assert_eq!(Liveness::new(at(0), Duration::ZERO), None);
        assert_eq!(Liveness::new(at(0), Duration::MAX), None);
    }
}
