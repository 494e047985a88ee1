//! At most one forecast per device and feature bin for the hub: the one made when the bin
//! closed. Every reading makes a forecast at the site, but readings of one bin all feed the same
//! model input up to the last one, so the hub needs only that last one: the forecast of a bin is
//! held, replaced by each newer forecast of the same bin, and released when the device's next
//! bin begins, or when the bin is over (on the wall clock, with a grace for late readings) and
//! the device has been quiet a moment. Pure: the uplink owns the clock and the publishing.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use edgeops_contracts::DeviceId;
use edgeops_contracts::deployment::Forecast;

/// When a held forecast is released without a newer bin replacing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    /// How long after its bin's end a reading of the bin may still arrive.
    pub grace: Duration,
    /// How long a device must have made no forecast (a replay of past data moves on quickly).
    pub quiet_for: Duration,
}

impl Default for Release {
    fn default() -> Self {
        Self {
            grace: Duration::seconds(5),
            quiet_for: Duration::seconds(2),
        }
    }
}

#[derive(Debug, Default)]
struct DeviceBins {
    /// The newest forecast of the open bin, and when it was made.
    held: Option<(Forecast, DateTime<Utc>)>,
    /// The origin of the last bin released: at most one forecast per bin, never an older one.
    released: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
pub struct BinCloser {
    devices: HashMap<DeviceId, DeviceBins>,
}

impl BinCloser {
    /// Takes a new forecast made at `now`; returns the forecast of the bin it closed, if any.
    pub fn offer(&mut self, forecast: Forecast, now: DateTime<Utc>) -> Option<Forecast> {
        let bins = self.devices.entry(forecast.device.clone()).or_default();
        if bins.released.is_some_and(|origin| forecast.ts <= origin) {
            return None;
        }
        match bins.held.take() {
            Some((held, at)) if forecast.ts < held.ts => {
                // A late reading of an earlier bin: the held bin stays open.
                bins.held = Some((held, at));
                None
            }
            Some((held, _)) if forecast.ts > held.ts => {
                bins.released = Some(held.ts);
                bins.held = Some((forecast, now));
                Some(held)
            }
            _ => {
                bins.held = Some((forecast, now));
                None
            }
        }
    }

    /// Releases the held forecasts whose bin is over and whose device has been quiet.
    pub fn due(&mut self, now: DateTime<Utc>, release: Release) -> Vec<Forecast> {
        let mut out = Vec::new();
        for bins in self.devices.values_mut() {
            let Some((held, at)) = &bins.held else {
                continue;
            };
            if now >= bin_end(held) + release.grace && now - *at >= release.quiet_for {
                bins.released = Some(held.ts);
                if let Some((held, _)) = bins.held.take() {
                    out.push(held);
                }
            }
        }
        out.sort_by(|a, b| (&a.device, a.ts).cmp(&(&b.device, b.ts)));
        out
    }
}

/// The end of a forecast's origin bin: one bin (its horizon over its bins) after its origin.
fn bin_end(forecast: &Forecast) -> DateTime<Utc> {
    let bins = i32::try_from(forecast.horizon_bins.max(1)).unwrap_or(i32::MAX);
    forecast.ts + (forecast.valid_at - forecast.ts) / bins
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeops_contracts::SiteId;
    use edgeops_contracts::deployment::ForecastKind;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600 + seconds, 0).unwrap()
    }

    /// A forecast of `device` from the 5-minute bin starting at `origin` seconds.
    fn forecast(device: &str, origin: i64, value: f64) -> Forecast {
        Forecast {
            ts: at(origin),
            valid_at: at(origin + 6 * 300),
            site: SiteId::parse("s1").unwrap(),
            device: DeviceId::parse(device).unwrap(),
            metric: "co2_ppm".into(),
            model: None,
            version: None,
            horizon_bins: 6,
            value,
            kind: ForecastKind::Persistence,
            features: None,
        }
    }

    #[test]
    fn the_last_forecast_of_a_bin_goes_when_the_next_bin_begins() {
        let mut closer = BinCloser::default();
        assert_eq!(closer.offer(forecast("d1", 0, 1.0), at(10)), None);
        assert_eq!(closer.offer(forecast("d1", 0, 2.0), at(20)), None);
        assert_eq!(closer.offer(forecast("d2", 0, 9.0), at(20)), None);
        let closed = closer.offer(forecast("d1", 300, 3.0), at(310));
        assert_eq!(closed.map(|f| f.value), Some(2.0), "the newest of bin 0");
        // A late reading of bin 0 after it was released changes nothing on the hub.
        assert_eq!(closer.offer(forecast("d1", 0, 7.0), at(311)), None);
        let closed = closer.offer(forecast("d1", 600, 4.0), at(610));
        assert_eq!(closed.map(|f| f.value), Some(3.0));
    }

    #[test]
    fn a_silent_devices_bin_goes_once_it_is_over_and_never_twice() {
        let mut closer = BinCloser::default();
        let release = Release::default();
        closer.offer(forecast("d1", 0, 1.0), at(100));
        assert!(closer.due(at(200), release).is_empty(), "the bin is open");
        assert!(closer.due(at(302), release).is_empty(), "within the grace");
        let due = closer.due(at(306), release);
        assert_eq!(due.iter().map(|f| f.value).collect::<Vec<_>>(), vec![1.0]);
        assert!(closer.due(at(900), release).is_empty());
        assert_eq!(closer.offer(forecast("d1", 0, 5.0), at(901)), None);
        assert!(
            closer.due(at(2000), release).is_empty(),
            "bin 0 went already"
        );
    }

    #[test]
    fn a_replay_of_past_bins_releases_the_last_bin_after_a_quiet_moment() {
        let mut closer = BinCloser::default();
        let release = Release::default();
        let now = at(100_000);
        closer.offer(forecast("d1", 0, 1.0), now);
        assert!(
            closer.due(now + Duration::seconds(1), release).is_empty(),
            "still replaying"
        );
        assert_eq!(closer.due(now + Duration::seconds(2), release).len(), 1);
    }
}
