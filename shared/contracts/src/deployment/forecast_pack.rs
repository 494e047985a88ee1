//! Forecasts as a gateway sends them to the hub: packed per device and run of like forecasts,
//! a site's in one message, small enough that a forecast costs a few bytes of uplink.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Forecast, ForecastKind};
use crate::compression::decompressed;
use crate::dead_letter::{RejectCode, Rejection};
use crate::ids::{DeviceId, SiteId};

/// Forecasts of one device as the gateway sends them to the hub: at most one per feature bin,
/// those that share metric, model, version, kind, horizon and bin width in one message, what
/// they share written once. Origins are a start and steps in bins, so a run of consecutive bins
/// costs a digit each. Values are integers in units of `10^value_exponent`, each written as its
/// difference from the one before: a forecast moves little from one bin to the next, so with
/// zstd on top a forecast costs one or two bytes of uplink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastPack {
    pub site: SiteId,
    pub device: DeviceId,
    pub metric: String,
    pub model: Option<String>,
    pub version: Option<u32>,
    pub kind: ForecastKind,
    pub horizon_bins: u32,
    pub interval_secs: i64,
    /// The first forecast's origin.
    pub first_origin: DateTime<Utc>,
    /// Per forecast, bins since the previous one's origin (the first's is 0).
    pub bin_steps: Vec<u32>,
    /// The decimal exponent of the values' unit: the largest value keeps the significant
    /// digits the pack was made with.
    pub value_exponent: i32,
    /// Per forecast, its value in units of `10^value_exponent`, less the previous forecast's
    /// (the first's less zero).
    pub value_steps: Vec<i64>,
    /// The values while packing (not sent).
    #[serde(skip)]
    values: Vec<f64>,
}

impl ForecastPack {
    /// Packs `forecasts` (one device's, in origin order), their values to `significant_digits`
    /// of the pack's largest: a new pack starts wherever what they share changes or an origin
    /// does not move forward by whole bins.
    pub fn pack(forecasts: &[Forecast], significant_digits: i32) -> Vec<Self> {
        let mut packs: Vec<Self> = Vec::new();
        for forecast in forecasts {
            let interval = forecast_interval_secs(forecast);
            if let Some(pack) = packs.last_mut()
                && let Some(step) = pack.step_to(forecast, interval)
            {
                pack.bin_steps.push(step);
                pack.values.push(forecast.value);
                continue;
            }
            packs.push(Self {
                site: forecast.site.clone(),
                device: forecast.device.clone(),
                metric: forecast.metric.clone(),
                model: forecast.model.clone(),
                version: forecast.version,
                kind: forecast.kind,
                horizon_bins: forecast.horizon_bins,
                interval_secs: interval,
                first_origin: forecast.ts,
                bin_steps: vec![0],
                value_exponent: 0,
                value_steps: Vec::new(),
                values: vec![forecast.value],
            });
        }
        for pack in &mut packs {
            pack.quantise(significant_digits);
        }
        packs
    }

    /// Writes the values as steps of integers in units of `10^value_exponent`.
    fn quantise(&mut self, significant_digits: i32) {
        let largest = self.values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        self.value_exponent = if largest > 0.0 && largest.is_finite() {
            (largest.log10().floor() as i32 + 1 - significant_digits.max(1))
                .clamp(-MAX_EXPONENT, MAX_EXPONENT)
        } else {
            0
        };
        let mut previous = 0_i64;
        self.value_steps = std::mem::take(&mut self.values)
            .into_iter()
            .map(|value| {
                let units = (value / unit(self.value_exponent)).round() as i64;
                let step = units - previous;
                previous = units;
                step
            })
            .collect();
    }

    /// The values it carries.
    fn values(&self) -> Vec<f64> {
        let mut units = 0_i64;
        self.value_steps
            .iter()
            .map(|step| {
                units = units.saturating_add(*step);
                // Dividing by an exact power of ten gives the nearest double: 6123 → 612.3.
                if self.value_exponent < 0 {
                    units as f64 / 10_f64.powi(-self.value_exponent)
                } else {
                    units as f64 * 10_f64.powi(self.value_exponent)
                }
            })
            .collect()
    }

    /// Bins from this pack's last origin to `forecast`'s, if it can join the pack.
    fn step_to(&self, forecast: &Forecast, interval: i64) -> Option<u32> {
        let same = self.site == forecast.site
            && self.device == forecast.device
            && self.metric == forecast.metric
            && self.model == forecast.model
            && self.version == forecast.version
            && self.kind == forecast.kind
            && self.horizon_bins == forecast.horizon_bins
            && self.interval_secs == interval
            && interval > 0;
        let last = self.origins().last().copied()?;
        let seconds = (forecast.ts - last).num_seconds();
        (same && seconds > 0 && seconds % interval == 0)
            .then(|| u32::try_from(seconds / interval).ok())
            .flatten()
    }

    fn origins(&self) -> Vec<DateTime<Utc>> {
        let mut origin = self.first_origin;
        self.bin_steps
            .iter()
            .map(|step| {
                origin += chrono::Duration::seconds(self.interval_secs * i64::from(*step));
                origin
            })
            .collect()
    }

    /// The forecasts it carries.
    pub fn forecasts(&self) -> Vec<Forecast> {
        let horizon = chrono::Duration::seconds(self.interval_secs * i64::from(self.horizon_bins));
        self.origins()
            .into_iter()
            .zip(self.values())
            .map(|(ts, value)| Forecast {
                ts,
                valid_at: ts + horizon,
                site: self.site.clone(),
                device: self.device.clone(),
                metric: self.metric.clone(),
                model: self.model.clone(),
                version: self.version,
                horizon_bins: self.horizon_bins,
                value,
                kind: self.kind,
                features: None,
            })
            .collect()
    }
}

/// The largest decimal exponent of a pack's unit either way (a value stays a finite double).
const MAX_EXPONENT: i32 = 30;

/// One unit of `10^exponent`.
fn unit(exponent: i32) -> f64 {
    10_f64.powi(exponent)
}

/// A forecast's bin width: its horizon's length over its bins (0 when it has no horizon).
fn forecast_interval_secs(forecast: &Forecast) -> i64 {
    match i64::from(forecast.horizon_bins) {
        0 => 0,
        bins => (forecast.valid_at - forecast.ts).num_seconds() / bins,
    }
}

/// The forecasts of one hub message on `edgeops.hub.forecasts.>`: a JSON array of
/// [`ForecastPack`]s (what a gateway sends per flush, every device of its site in one message),
/// one pack, or a single [`Forecast`] (what a person may publish by hand), as JSON text or a
/// zstd frame of it.
pub fn decode_hub_forecasts(payload: &[u8]) -> Result<Vec<Forecast>, Rejection> {
    let text = decompressed(payload, MAX_FORECAST_MESSAGE_BYTES)?;
    let value: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|err| Rejection::new(RejectCode::InvalidJson, err.to_string()))?;
    let forecasts = match value {
        serde_json::Value::Array(packs) => {
            let mut forecasts = Vec::new();
            for pack in packs {
                forecasts.extend(pack_forecasts(pack)?);
            }
            forecasts
        }
        pack if pack.get("value_steps").is_some() => pack_forecasts(pack)?,
        single => vec![
            serde_json::from_value(single)
                .map_err(|err| Rejection::new(RejectCode::WrongType, err.to_string()))?,
        ],
    };
    match forecasts.iter().find(|f| !f.value.is_finite()) {
        Some(_) => Err(Rejection::new(
            RejectCode::NotANumber,
            "a forecast's value is not a finite number",
        )),
        None => Ok(forecasts),
    }
}

/// The forecasts of one pack's JSON, refused when its columns disagree.
fn pack_forecasts(value: serde_json::Value) -> Result<Vec<Forecast>, Rejection> {
    let pack: ForecastPack = serde_json::from_value(value)
        .map_err(|err| Rejection::new(RejectCode::WrongType, err.to_string()))?;
    if pack.value_steps.len() != pack.bin_steps.len() {
        return Err(Rejection::new(
            RejectCode::WrongType,
            format!(
                "{} value steps for {} bin steps",
                pack.value_steps.len(),
                pack.bin_steps.len()
            ),
        ));
    }
    if pack.value_exponent.abs() > MAX_EXPONENT {
        return Err(Rejection::new(
            RejectCode::OutOfRange,
            format!(
                "value exponent {} beyond ±{MAX_EXPONENT}",
                pack.value_exponent
            ),
        ));
    }
    Ok(pack.forecasts())
}

/// What one forecast message may decompress to.
const MAX_FORECAST_MESSAGE_BYTES: usize = 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    fn forecast(origin_bin: i64, value: f64, version: Option<u32>) -> Forecast {
        let ts = DateTime::from_timestamp(1_767_225_600 + origin_bin * 300, 0).unwrap();
        Forecast {
            ts,
            valid_at: ts + chrono::Duration::seconds(6 * 300),
            site: SiteId::parse("s1").unwrap(),
            device: DeviceId::parse("d1").unwrap(),
            metric: "co2_ppm".into(),
            model: version.map(|_| "co2".to_owned()),
            version,
            horizon_bins: 6,
            value,
            kind: if version.is_some() {
                ForecastKind::Model
            } else {
                ForecastKind::Persistence
            },
            features: None,
        }
    }

    #[test]
    fn a_pack_carries_its_forecasts_back_exactly() {
        let forecasts = vec![
            forecast(0, 600.0, None),
            forecast(1, 601.5, None),
            forecast(4, 603.2, None),
            forecast(5, 610.0, Some(2)),
            forecast(6, 611.0, Some(2)),
        ];
        let packs = ForecastPack::pack(&forecasts, 4);
        assert_eq!(packs.len(), 2, "persistence, then the model's");
        assert_eq!(packs[0].bin_steps, vec![0, 1, 3]);
        assert_eq!(
            (packs[0].value_exponent, packs[0].value_steps.clone()),
            (-1, vec![6000, 15, 17])
        );
        let back: Vec<Forecast> = packs.iter().flat_map(ForecastPack::forecasts).collect();
        assert_eq!(back, forecasts);
        let json = serde_json::to_vec(&packs[1]).unwrap();
        assert_eq!(
            decode_hub_forecasts(&json).unwrap(),
            forecasts[3..].to_vec()
        );
        let frame = crate::compression::compress(&json);
        assert_eq!(
            decode_hub_forecasts(&frame).unwrap(),
            forecasts[3..].to_vec()
        );
    }

    #[test]
    fn a_hand_published_forecast_still_reads_and_bad_ones_are_refused() {
        let one = forecast(0, 600.0, None);
        let json = serde_json::to_vec(&one).unwrap();
        assert_eq!(decode_hub_forecasts(&json).unwrap(), vec![one]);
        let code = |payload: &[u8]| decode_hub_forecasts(payload).unwrap_err().code;
        assert_eq!(code(b"{nope"), RejectCode::InvalidJson);
        assert_eq!(code(br#"{"value_steps":[1]}"#), RejectCode::WrongType);
        let mut pack = ForecastPack::pack(&[forecast(0, 1.0, None)], 4).remove(0);
        pack.value_steps.push(2);
        assert_eq!(
            code(&serde_json::to_vec(&pack).unwrap()),
            RejectCode::WrongType,
            "as many values as steps"
        );
        pack.value_steps.pop();
        pack.value_exponent = 400;
        assert_eq!(
            code(&serde_json::to_vec(&pack).unwrap()),
            RejectCode::OutOfRange
        );
    }

    #[test]
    fn values_travel_to_the_significant_digits_asked_for() {
        let forecasts = vec![
            forecast(0, 612.345_678, Some(1)),
            forecast(1, 1013.75, Some(1)),
            forecast(2, -0.4, Some(1)),
        ];
        let back: Vec<f64> = ForecastPack::pack(&forecasts, 4)
            .iter()
            .flat_map(ForecastPack::forecasts)
            .map(|f| f.value)
            .collect();
        assert_eq!(back, vec![612.0, 1014.0, 0.0], "four digits of the largest");
        let room = vec![
            forecast(0, 612.345_678, Some(1)),
            forecast(1, 598.04, Some(1)),
        ];
        let back: Vec<f64> = ForecastPack::pack(&room, 4)
            .iter()
            .flat_map(ForecastPack::forecasts)
            .map(|f| f.value)
            .collect();
        assert_eq!(back, vec![612.3, 598.0]);
        let text = serde_json::to_string(&ForecastPack::pack(&forecasts, 4)[0]).unwrap();
        assert!(!text.contains("\"values\""), "{text}");
    }
}
