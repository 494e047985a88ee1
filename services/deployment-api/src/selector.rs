//! Which devices a rollout targets, as an operator names them: sites, site tags, devices.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selector {
    #[serde(default)]
    pub sites: Vec<String>,
    /// Site tags: every registered site carrying any of them.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Devices as `<site>:<device>`.
    #[serde(default)]
    pub devices: Vec<String>,
    /// Only devices with a reading arrived at the hub within this many seconds are targets;
    /// `None`: the service's setting (`--live-within`, 15 minutes by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_within_secs: Option<u64>,
}

impl Selector {
    pub fn is_empty(&self) -> bool {
        self.sites.is_empty() && self.tags.is_empty() && self.devices.is_empty()
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
