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

/// `15m`, `90s`, `2h`, `1d`, or bare seconds: how `--live-within` is written.
pub fn parse_within(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: write a whole number and a unit, e.g. 15m, 90s, 2h"))?;
    let unit_secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        other => return Err(format!("{text:?}: unknown unit {other:?} (s, m, h or d)")),
    };
    match number.checked_mul(unit_secs) {
        Some(0) => Err(format!("{text:?}: the window must be longer than zero")),
        Some(secs) => Ok(Duration::from_secs(secs)),
        None => Err(format!("{text:?} is too long")),
    }
}

/// A window as an operator writes it (`15m`, `1h30m`, `90s`).
pub fn human(within: Duration) -> String {
    let secs = within.as_secs();
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3_600,
        secs % 3_600 / 60,
        secs % 60,
    );
    let mut out = String::new();
    for (value, unit) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if value > 0 {
            out.push_str(&format!("{value}{unit}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
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

    #[test]
    fn windows_parse_as_operators_write_them() {
        assert_eq!(parse_within("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_within("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_within("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_within(" 2h "), Ok(Duration::from_secs(7_200)));
        assert_eq!(parse_within("1d"), Ok(Duration::from_secs(86_400)));
        for bad in [
            "",
            "m",
            "0m",
            "15 m",
            "15min",
            "-5m",
            "1.5h",
            "99999999999999999999d",
        ] {
            assert!(parse_within(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn windows_print_in_the_largest_units() {
        for (secs, text) in [
            (900, "15m"),
            (90, "1m30s"),
            (5_400, "1h30m"),
            (86_400, "1d"),
            (0, "0s"),
        ] {
            assert_eq!(human(Duration::from_secs(secs)), text);
        }
    }
}
