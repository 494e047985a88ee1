//! Simulated sensors. [`Room`]: one room's CO2 (from occupancy and ventilation), temperature and
//! humidity (daily cycles). [`Sensor`]: a room seen through switchable faults ([`SensorFaults`]:
//! drift, stuck values, spikes, dropouts, `NaN` firmware). [`Fleet`]: many sites of many rooms
//! on one timeline. Everything is deterministic for a given seed, so runs can be compared.

mod faults;
mod fleet;
mod room;

pub use faults::{Sensor, SensorFaults};
pub use fleet::Fleet;
pub use room::{Measurement, Room};
