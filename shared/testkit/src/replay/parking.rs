//! UCI Parking Birmingham: about 30 car parks, counted every ~30 minutes from 08:00 to 16:30,
//! 2016-10-04 to 2016-12-19.
//!
//! Columns: `SystemCodeNumber,Capacity,Occupancy,LastUpdated`. Each car park is a device; its
//! code becomes the device id, with any character an id may not hold replaced by `-`
//! (`Broad Street` -> `Broad-Street`; most codes, like `BHMBCCMKT01`, are valid as they are).
//! Metrics: `occupancy_count` (cars parked) and `capacity_count` (spaces). A handful of counts
//! are negative (a car park's counter drifting below zero): those values are outside the range
//! and dropped, the capacity still travels. `LastUpdated` is Birmingham local time (see
//! [`super::london_to_utc`]).

use chrono::NaiveDateTime;
use edgeops_contracts::DeviceId;

use super::{Row, london_to_utc, value};

pub(super) const HEADER: &str = "SystemCodeNumber,Capacity,Occupancy,LastUpdated";

pub(super) fn parse_row(line: &str) -> Result<Row, String> {
    let fields: Vec<&str> = line.split(',').collect();
    let [code, capacity, occupancy, updated] = fields[..] else {
        return Err(format!("{} fields, expected 4", fields.len()));
    };
    let local = NaiveDateTime::parse_from_str(updated.trim(), "%Y-%m-%d %H:%M:%S")
        .map_err(|e| format!("{updated:?}: {e}"))?;
    Ok(Row {
        ts: london_to_utc(local).ok_or_else(|| format!("no UK time for {local}"))?,
        device: device_id(code)?,
        values: vec![
            ("occupancy_count", value(occupancy)?),
            ("capacity_count", value(capacity)?),
        ],
    })
}

/// A car park's code as a device id: characters an id may not hold become `-`.
pub fn device_id(code: &str) -> Result<DeviceId, String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let id: String = code
        .trim()
        .chars()
        .map(|c| if allowed(c) { c } else { '-' })
        .collect();
    DeviceId::parse(id).map_err(|e| e.to_string())
}
