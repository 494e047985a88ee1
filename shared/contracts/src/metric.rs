//! The catalogue of measurements a reading may carry. A metric key is `<quantity>_<unit>`
//! (`co2_ppm`, `temperature_c`), so the unit travels with every value and a reading in a unit we
//! do not convert (`temperature_f`) is refused instead of silently mixed into the same column.

use serde::Serialize;

/// One measurable quantity in one unit, with the range a working sensor can physically report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Metric {
    pub key: &'static str,
    pub quantity: &'static str,
    pub unit: &'static str,
    pub min: f64,
    pub max: f64,
}

const fn metric(
    key: &'static str,
    quantity: &'static str,
    unit: &'static str,
    min: f64,
    max: f64,
) -> Metric {
    Metric {
        key,
        quantity,
        unit,
        min,
        max,
    }
}

/// Ranges are what a sensor can physically report, wide enough for real outdoor data
/// (Beijing winters, PM2.5 episodes near 1,000 ug/m3) and narrow enough to catch broken sensors.
const METRICS: &[Metric] = &[
    metric("co2_ppm", "co2", "ppm", 0.0, 40_000.0),
    metric("temperature_c", "temperature", "c", -60.0, 80.0),
    metric("humidity_pct", "humidity", "pct", 0.0, 100.0),
    metric("pm25_ugm3", "pm25", "ugm3", 0.0, 2_000.0),
    metric("occupancy_count", "occupancy", "count", 0.0, 100_000.0),
    metric("capacity_count", "capacity", "count", 0.0, 100_000.0),
    metric("dew_point_c", "dew_point", "c", -80.0, 60.0),
    metric("pressure_hpa", "pressure", "hpa", 800.0, 1_100.0),
    metric("wind_speed_ms", "wind_speed", "ms", 0.0, 1_000.0),
];

/// What the catalogue says about a metric key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lookup {
    Known(Metric),
    /// The quantity is known, but not in this unit.
    UnsupportedUnit {
        quantity: &'static str,
        supported_unit: &'static str,
    },
    Unknown,
}

/// The metric catalogue. A unit type today; a later issue may make it per-site configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct MetricCatalog;

impl MetricCatalog {
    pub fn lookup(&self, key: &str) -> Lookup {
        if let Some(known) = METRICS.iter().find(|m| m.key == key) {
            return Lookup::Known(*known);
        }
        METRICS
            .iter()
            .find(|m| {
                key.strip_prefix(m.quantity)
                    .and_then(|rest| rest.strip_prefix('_'))
                    .is_some_and(|unit| !unit.is_empty() && !unit.contains('_'))
            })
            .map_or(Lookup::Unknown, |m| Lookup::UnsupportedUnit {
                quantity: m.quantity,
                supported_unit: m.unit,
            })
    }

    pub fn all(&self) -> &'static [Metric] {
        METRICS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_known_metrics_and_names_the_wrong_unit() {
        let catalog = MetricCatalog;
        assert!(matches!(catalog.lookup("co2_ppm"), Lookup::Known(m) if m.unit == "ppm"));
        assert_eq!(
            catalog.lookup("temperature_f"),
            Lookup::UnsupportedUnit {
                quantity: "temperature",
                supported_unit: "c"
            }
        );
        assert_eq!(catalog.lookup("voltage_v"), Lookup::Unknown);
    }

    #[test]
    fn every_range_is_ordered() {
        for m in MetricCatalog.all() {
            assert!(m.min < m.max, "{}", m.key);
            assert_eq!(m.key, format!("{}_{}", m.quantity, m.unit));
        }
    }
}
