//! Many sites of many rooms on one timeline, in the order a live fleet would publish.
//!
//! Every room reports once per step, at its own phase within the step (real boxes are not
//! synchronised), so the readings of one step come out in phase order and all before the next
//! step's: the iterator is in time order across the whole fleet. Sites are `site-01`, `site-02`,
//! ...; rooms `room-001`, ... in each. Same seed, same readings.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, TimeZone, Utc};
use edgeops_contracts::{DeviceId, SiteId, subjects};

use super::faults::{Sensor, SensorFaults, draw};
use super::room::Room;

/// Salt of the draw that places a room within the step.
const PHASE: u64 = 5;

struct FleetRoom {
    site: usize,
    room: usize,
    subject: String,
    phase_secs: i64,
    sensor: Sensor,
}

/// A fleet of simulated rooms; iterate it for `(subject, payload)` in time order. The iterator
/// is endless unless every room drops all its readings: use `take`.
pub struct Fleet {
    rooms: Vec<FleetRoom>,
    step_secs: i64,
    next_step: DateTime<Utc>,
    pending: VecDeque<(String, String)>,
}

impl Fleet {
    /// `sites` sites of `rooms_per_site` healthy rooms, one reading a minute each, starting on
    /// Monday 2025-01-06 00:00 UTC (fixed, so a seed always gives the same payloads; in the past,
    /// so ingest accepts them).
    pub fn new(sites: usize, rooms_per_site: usize, seed: u64) -> Self {
        let mut rooms: Vec<FleetRoom> = (0..sites)
            .flat_map(|site| (0..rooms_per_site).map(move |room| (site, room)))
            .enumerate()
            .filter_map(|(index, (site, room))| {
                // Always valid ids: ASCII letters, digits and '-'.
                let site_id = SiteId::parse(format!("site-{:02}", site + 1)).ok()?;
                let device = DeviceId::parse(format!("room-{:03}", room + 1)).ok()?;
                let room_seed = seed_of(seed, index as u64);
                Some(FleetRoom {
                    site,
                    room,
                    subject: subjects::raw_reading(&site_id, &device),
                    phase_secs: (draw(room_seed, 0, PHASE) * 60.0) as i64,
                    sensor: Sensor::new(
                        Room::new(device.to_string(), room_seed),
                        SensorFaults::default(),
                    ),
                })
            })
            .collect();
        rooms.sort_by_key(|r| r.phase_secs);
        Self {
            rooms,
            step_secs: 60,
            next_step: Utc
                .with_ymd_and_hms(2025, 1, 6, 0, 0, 0)
                .single()
                .unwrap_or_default(),
            pending: VecDeque::new(),
        }
    }

    /// Starts the timeline at `start` instead.
    pub fn starting_at(mut self, start: DateTime<Utc>) -> Self {
        self.next_step = start;
        self
    }

    /// Seconds between two readings of one room (at least 1). Phases scale with the step.
    pub fn step_secs(mut self, step_secs: u32) -> Self {
        let step = i64::from(step_secs.max(1));
        for room in &mut self.rooms {
            room.phase_secs = room.phase_secs * step / self.step_secs;
        }
        self.rooms.sort_by_key(|r| r.phase_secs);
        self.step_secs = step;
        self
    }

    /// The faults of room `room` of site `site` (both counted from 0), to switch some on.
    pub fn faults_mut(&mut self, site: usize, room: usize) -> Option<&mut SensorFaults> {
        self.rooms
            .iter_mut()
            .find(|r| r.site == site && r.room == room)
            .map(|r| &mut r.sensor.faults)
    }

    /// Number of rooms in the fleet.
    pub fn len(&self) -> usize {
        self.rooms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rooms.is_empty()
    }

    fn advance(&mut self) {
        let step = self.next_step;
        for room in &mut self.rooms {
            let at = step + Duration::seconds(room.phase_secs);
            if let Some(payload) = room.sensor.step(at, self.step_secs as f64) {
                self.pending.push_back((room.subject.clone(), payload));
            }
        }
        self.next_step = step + Duration::seconds(self.step_secs);
    }
}

impl Iterator for Fleet {
    type Item = (String, String);

    fn next(&mut self) -> Option<Self::Item> {
        let silent = |r: &FleetRoom| r.sensor.faults.dropout_share >= 1.0;
        if self.rooms.iter().all(silent) {
            return None;
        }
        while self.pending.is_empty() {
            self.advance();
        }
        self.pending.pop_front()
    }
}

/// A room's seed from the fleet's: distinct per room, stable across runs.
fn seed_of(seed: u64, index: u64) -> u64 {
    (draw(seed, index as i64, PHASE + 1) * (1u64 << 53) as f64) as u64
}

#[cfg(test)]
mod tests;
