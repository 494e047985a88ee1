//! What goes wrong with real sensor boxes, switchable per room: slow drift, a frozen value,
//! spikes, missing readings, and firmware that prints `NaN`. Each draw is a hash of (room seed,
//! time, fault), so a run is reproducible and switching one fault on does not reshuffle another.

use chrono::{DateTime, Duration, Utc};

use super::room::{Measurement, Room};

/// A room's faults. The default is a healthy sensor; every field is independent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SensorFaults {
    /// CO2 offset growing by this much per day since the first reading (NDIR sensors drift as
    /// their lamp ages). Not clamped: far enough, the value leaves the physical range and ingest
    /// refuses it as `out_of_range`, as it would a real one.
    pub co2_drift_ppm_per_day: f64,
    /// Temperature offset growing by this much per day since the first reading.
    pub temperature_drift_c_per_day: f64,
    /// From this long after the first reading, the sensor repeats the values it read at that
    /// moment (a hung ADC); timestamps keep advancing, so only the values betray it.
    pub stuck_after: Option<Duration>,
    /// Share of readings (0..=1) with one outlier: CO2 x4 or temperature +20 C. Both stay inside
    /// the catalogue's ranges: ingest accepts them; the gateway's alert bands and outlier
    /// detection are what should catch them.
    pub spike_share: f64,
    /// Share of readings (0..=1) never sent (radio loss, a brown-out). The room keeps evolving.
    pub dropout_share: f64,
    /// Share of readings (0..=1) whose CO2 is printed as the bare literal `NaN` (a firmware bug
    /// formatting a failed read). That payload is not JSON: ingest dead-letters it as
    /// `not_a_number`.
    pub nan_share: f64,
}

/// Salts keep the draws of different faults independent.
const DROPOUT: u64 = 1;
const SPIKE: u64 = 2;
const SPIKE_TARGET: u64 = 3;
const NAN: u64 = 4;

/// A room's sensor box: the room as measured through its faults.
#[derive(Debug, Clone)]
pub struct Sensor {
    pub room: Room,
    pub faults: SensorFaults,
    first_at: Option<DateTime<Utc>>,
    frozen: Option<Measurement>,
}

impl Sensor {
    pub fn new(room: Room, faults: SensorFaults) -> Self {
        Self {
            room,
            faults,
            first_at: None,
            frozen: None,
        }
    }

    /// Advances the room to `at`; the payload the box sends, or `None` if this one drops out.
    /// Without faults the payload is exactly [`Room::step`]'s.
    pub fn step(&mut self, at: DateTime<Utc>, step_secs: f64) -> Option<String> {
        let measured = self.room.measure(at, step_secs);
        let first_at = *self.first_at.get_or_insert(at);
        let seed = self.room.seed();
        let t = at.timestamp();
        if draw(seed, t, DROPOUT) < self.faults.dropout_share {
            return None;
        }
        let days = (at - first_at).num_milliseconds() as f64 / 86_400_000.0;
        let mut m = Measurement {
            co2_ppm: measured.co2_ppm + self.faults.co2_drift_ppm_per_day * days,
            temperature_c: measured.temperature_c + self.faults.temperature_drift_c_per_day * days,
            ..measured
        };
        if self
            .faults
            .stuck_after
            .is_some_and(|after| at - first_at >= after)
        {
            m = *self.frozen.get_or_insert(m);
        }
        if draw(seed, t, SPIKE) < self.faults.spike_share {
            if draw(seed, t, SPIKE_TARGET) < 0.5 {
                m.co2_ppm *= 4.0;
            } else {
                m.temperature_c += 20.0;
            }
        }
        if draw(seed, t, NAN) < self.faults.nan_share {
            m.co2_ppm = f64::NAN;
        }
        Some(m.payload(at))
    }
}

/// A deterministic draw in [0, 1) from (seed, time, salt): splitmix64's finaliser.
pub(crate) fn draw(seed: u64, t: i64, salt: u64) -> f64 {
    let mut x = seed
        .wrapping_add((t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03));
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests;
