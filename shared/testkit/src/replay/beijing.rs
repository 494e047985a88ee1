//! UCI Beijing PM2.5: one station, one row an hour, 2010-2014.
//!
//! Columns: `No,year,month,day,hour,pm2.5,DEWP,TEMP,PRES,cbwd,Iws,Is,Ir`. The data set is a
//! single station, so every reading comes from device `station-1`. Forwarded: `pm2.5` as
//! `pm25_ugm3` (`NA` in 2,067 hours: dropped from that reading), `TEMP` as `temperature_c`,
//! `DEWP` as `dew_point_c`, `PRES` as `pressure_hpa`, and `Iws` as `wind_speed_ms`. Iws is the
//! *cumulated* wind speed (summed hour by hour while the wind keeps its direction), not an
//! instantaneous one; it is forwarded under `wind_speed_ms` because the catalogue has no better
//! key, and only while it is within that metric's range (it always is in this file, up to 586).
//! Not forwarded: `cbwd` (a wind direction category), `Is`/`Ir` (cumulated hours of snow/rain)
//! have no catalogue metric.
//!
//! Times are Beijing local time, UTC+8 all year (China has had no daylight saving time since
//! 1991), converted to UTC: the first row, 2010-01-01 00:00, is 2009-12-31T16:00:00Z.

use chrono::{FixedOffset, NaiveDate, TimeZone, Utc};
use edgeops_contracts::DeviceId;

use super::{Row, value};

pub(super) const HEADER: &str = "No,year,month,day,hour,pm2.5,DEWP,TEMP,PRES,cbwd,Iws,Is,Ir";

/// The station's device id.
pub const DEVICE: &str = "station-1";

const BEIJING_UTC_OFFSET_SECS: i32 = 8 * 3600;

pub(super) fn parse_row(line: &str) -> Result<Row, String> {
    let fields: Vec<&str> = line.split(',').collect();
    let [
        _,
        year,
        month,
        day,
        hour,
        pm25,
        dewp,
        temp,
        pres,
        _,
        iws,
        _,
        _,
    ] = fields[..]
    else {
        return Err(format!("{} fields, expected 13", fields.len()));
    };
    let number = |field: &str| {
        field
            .trim()
            .parse::<u32>()
            .map_err(|e| format!("{field:?}: {e}"))
    };
    let year = i32::try_from(number(year)?).map_err(|e| e.to_string())?;
    let hour = number(hour)?;
    let local = NaiveDate::from_ymd_opt(year, number(month)?, number(day)?)
        .and_then(|date| date.and_hms_opt(hour, 0, 0))
        .ok_or_else(|| format!("no such hour: {line:?}"))?;
    let ts = FixedOffset::east_opt(BEIJING_UTC_OFFSET_SECS)
        .and_then(|beijing| beijing.from_local_datetime(&local).single())
        .ok_or_else(|| format!("no such time: {local}"))?
        .with_timezone(&Utc);
    Ok(Row {
        ts,
        device: DeviceId::parse(DEVICE).map_err(|e| e.to_string())?,
        values: vec![
            ("pm25_ugm3", value(pm25)?),
            ("temperature_c", value(temp)?),
            ("dew_point_c", value(dewp)?),
            ("pressure_hpa", value(pres)?),
            ("wind_speed_ms", value(iws)?),
        ],
    })
}
