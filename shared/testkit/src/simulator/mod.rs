//! Simulated sensors. [`Room`]: one room's CO2 (from occupancy and ventilation), temperature and
//! humidity (daily cycles). [`Sensor`]: a room seen through switchable faults ([`SensorFaults`]:
//! drift, stuck values, spikes, dropouts, `NaN` firmware). [`Fleet`]: many sites of many rooms
//! on one timeline. [`SimulatedClock`]: a run's simulated time, never ahead of the wall clock.
//! Everything is deterministic for a given seed, so runs can be compared.

mod clock;
mod faults;
mod fleet;
mod room;

pub use clock::SimulatedClock;
pub use faults::{Sensor, SensorFaults};
pub use fleet::Fleet;
pub use room::{Measurement, Room};
