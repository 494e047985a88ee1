//! One room: CO2 that follows occupancy and ventilation, temperature and humidity with a daily
//! cycle. Deterministic for a given seed, so runs can be compared.

use chrono::{DateTime, Timelike, Utc};

/// Typical mechanical ventilation of an office or classroom.
const AIR_CHANGES_PER_HOUR: f64 = 1.5;

/// One room's state.
#[derive(Debug, Clone)]
pub struct Room {
    pub device: String,
    co2_ppm: f64,
    temperature_c: f64,
    humidity_pct: f64,
    seed: u64,
}

/// What a room's sensor box reads at one instant, noise included, before it is formatted.
/// Faults ([`super::SensorFaults`]) act on this, between the room and the payload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    pub co2_ppm: f64,
    pub temperature_c: f64,
    pub humidity_pct: f64,
}

impl Room {
    pub fn new(device: impl Into<String>, seed: u64) -> Self {
        Self {
            device: device.into(),
            co2_ppm: 420.0,
            temperature_c: 21.0,
            humidity_pct: 40.0,
            seed,
        }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Advances the room by `step_secs` to time `at` and returns the reading's JSON payload.
    pub fn step(&mut self, at: DateTime<Utc>, step_secs: f64) -> String {
        self.measure(at, step_secs).payload(at)
    }

    /// Advances the room by `step_secs` to time `at` and returns what its sensors read.
    pub fn measure(&mut self, at: DateTime<Utc>, step_secs: f64) -> Measurement {
        let hour = f64::from(at.hour()) + f64::from(at.minute()) / 60.0;
        let occupants = occupancy(at, self.seed);
        let outdoor_co2 = 420.0;
        // Each occupant exhales ~0.005 L/s of CO2 into the room's volume; ventilation at
        // AIR_CHANGES_PER_HOUR pulls the excess back toward the outdoor level.
        let volume_litres = 1000.0 * (50.0 + (self.seed % 5) as f64 * 10.0);
        let rise_ppm_per_sec = occupants * 0.005 / volume_litres * 1e6;
        let decay_per_sec = AIR_CHANGES_PER_HOUR / 3600.0;
        let excess = self.co2_ppm - outdoor_co2;
        self.co2_ppm = outdoor_co2
            + (excess + (rise_ppm_per_sec - excess * decay_per_sec) * step_secs).max(0.0);
        let daily = (std::f64::consts::TAU * (hour - 15.0) / 24.0).cos();
        self.temperature_c = 21.0 + 1.5 * daily + 0.08 * occupants;
        self.humidity_pct = (45.0 - 5.0 * daily + 0.3 * occupants).clamp(0.0, 100.0);
        let noise = jitter(self.seed, at.timestamp());
        Measurement {
            co2_ppm: self.co2_ppm + noise * 5.0,
            temperature_c: self.temperature_c + noise * 0.05,
            humidity_pct: self.humidity_pct + noise * 0.3,
        }
    }
}

impl Measurement {
    /// The JSON payload a sensor box sends. Formatting is the firmware's: a NaN value prints as
    /// the bare literal `NaN`, which is not JSON (see [`super::SensorFaults::nan_share`]).
    pub fn payload(&self, at: DateTime<Utc>) -> String {
        format!(
            r#"{{"ts":"{}","metrics":{{"co2_ppm":{:.1},"temperature_c":{:.2},"humidity_pct":{:.1}}}}}"#,
            at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            self.co2_ppm,
            self.temperature_c,
            self.humidity_pct,
        )
    }
}

/// How a room is used on one day: how many of its people come, when they arrive and leave.
/// Drawn per room and day, so no two days are alike and copying yesterday is no forecast.
struct DayPlan {
    attendance: f64,
    arrive_hour: f64,
    leave_hour: f64,
}

fn day_plan(seed: u64, day: i64) -> DayPlan {
    let draw = |k: i64| unit(seed ^ 0xD1B5_4A32_D192_ED03, day * 4 + k);
    DayPlan {
        attendance: 0.5 + 0.5 * draw(0),
        arrive_hour: 7.5 + 1.5 * draw(1),
        leave_hour: 16.0 + 2.5 * draw(2),
    }
}

/// Office hours with a lunch dip; each room a slightly different size, each day its own plan,
/// and meetings that come and go from hour to hour.
fn occupancy(at: DateTime<Utc>, seed: u64) -> f64 {
    let hour = f64::from(at.hour()) + f64::from(at.minute()) / 60.0;
    let day = at.timestamp().div_euclid(86_400);
    let plan = day_plan(seed, day);
    if hour < plan.arrive_hour || hour >= plan.leave_hour {
        return 0.0;
    }
    let capacity = 4.0 + (seed % 8) as f64;
    let this_hour = 0.6
        + 0.4
            * unit(
                seed ^ 0x8CB9_2BA7_2F3D_8DD7,
                day * 24 + i64::from(at.hour()),
            );
    let present = capacity * plan.attendance * this_hour;
    if (12.0..13.0).contains(&hour) {
        present * 0.3
    } else {
        present
    }
}

/// Deterministic draw in [0, 1] from (seed, key).
fn unit(seed: u64, key: i64) -> f64 {
    (jitter(seed, key) + 1.0) / 2.0
}

/// Deterministic noise in [-1, 1] from (seed, time).
fn jitter(seed: u64, t: i64) -> f64 {
    let mut x = seed ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x % 2001) as f64 / 1000.0 - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use edgeops_contracts::{Reading, ReadingLimits};

    #[test]
    fn simulated_readings_pass_ingest_validation_and_co2_rises_when_occupied() {
        let mut room = Room::new("room-1", 3);
        let start = Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap();
        let mut co2 = Vec::new();
        for minute in 0..(8 * 60) {
            let at = start + chrono::Duration::minutes(minute);
            let payload = room.step(at, 60.0);
            let reading = Reading::from_message(
                "edgeops.raw.s1.room-1",
                payload.as_bytes(),
                Utc::now(),
                &ReadingLimits::default(),
            )
            .unwrap_or_else(|r| panic!("{payload}: {r}"));
            co2.push(reading.metrics["co2_ppm"]);
        }
        let before_work = co2[60]; // 07:00
        let mid_morning = co2[4 * 60]; // 10:00
        assert!(
            mid_morning > before_work + 200.0,
            "{before_work} -> {mid_morning}"
        );
    }

    #[test]
    fn no_two_days_of_a_room_are_alike() {
        let monday = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
        let day_of = |day: i64| -> Vec<f64> {
            (0..24 * 12)
                .map(|bin| occupancy(monday + chrono::Duration::minutes(day * 1440 + bin * 5), 3))
                .collect()
        };
        let (first, second) = (day_of(0), day_of(1));
        assert!(first.iter().any(|&o| o > 0.0) && second.iter().any(|&o| o > 0.0));
        let differing = first.iter().zip(&second).filter(|(a, b)| a != b).count();
        assert!(differing > 50, "only {differing} of 288 bins differ");
        assert_eq!(first[0], 0.0, "nobody is in at midnight");
    }

    #[test]
    fn payloads_keep_their_format() {
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
        let payload = Room::new("room-1", 3).step(at, 60.0);
        assert!(
            payload.starts_with(r#"{"ts":"2026-03-02T10:00:00.000Z","metrics":{"co2_ppm":"#),
            "{payload}"
        );
        let nan = Measurement {
            co2_ppm: f64::NAN,
            temperature_c: 21.0,
            humidity_pct: 40.0,
        };
        assert!(nan.payload(at).contains(r#""co2_ppm":NaN,"#));
    }
}
