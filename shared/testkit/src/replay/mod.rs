//! Real data sets replayed as sensor readings: each CSV row becomes `(subject, payload)` on
//! `edgeops.raw.<site>.<device>`, exactly what a sensor at the site would publish.
//!
//! The files are in `data/` (attribution in `data/README.md`) and built into the binary, so
//! `edgeops replay` works from any directory. Rows are parsed leniently and counted, never
//! panicked on: a row that cannot be read is skipped; a value that is missing (`NA`) or outside
//! the metric's physical range is dropped from its reading; a reading left without metrics is
//! skipped. Every reading produced passes ingest's validation (`Reading::from_message`).
//! Readings come out in time order across devices, the way a live fleet publishes.

mod beijing;
mod london;
mod measure;
mod parking;

use chrono::{DateTime, SecondsFormat, Utc};
use edgeops_contracts::metric::Lookup;
use edgeops_contracts::{DeviceId, MetricCatalog, SiteId, subjects};
use serde::Serialize;

pub use london::london_to_utc;
pub use measure::{ByteReport, measure};

/// A data set the project ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dataset {
    /// UCI Beijing PM2.5: one outdoor station, hourly, 2010-2014.
    Beijing,
    /// UCI Parking Birmingham: 30 car parks, half-hourly in the day, Oct-Dec 2016.
    Parking,
}

impl Dataset {
    /// The site a replay publishes at unless told otherwise.
    pub fn default_site(self) -> &'static str {
        match self {
            Self::Beijing => "beijing",
            Self::Parking => "birmingham",
        }
    }

    /// The shipped copy of the data set, built into the binary.
    pub fn embedded_csv(self) -> &'static str {
        match self {
            Self::Beijing => include_str!("../../../../data/hourly_beijing_pm.csv"),
            Self::Parking => include_str!("../../../../data/hourly_parking.csv"),
        }
    }

    fn header(self) -> &'static str {
        match self {
            Self::Beijing => beijing::HEADER,
            Self::Parking => parking::HEADER,
        }
    }

    fn parse_row(self, line: &str) -> Result<Row, String> {
        match self {
            Self::Beijing => beijing::parse_row(line),
            Self::Parking => parking::parse_row(line),
        }
    }
}

/// One CSV row as read: `None` marks a missing value.
struct Row {
    ts: DateTime<Utc>,
    device: DeviceId,
    values: Vec<(&'static str, Option<f64>)>,
}

/// One reading of a data set: valid ids, UTC time, every value in its metric's range.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub ts: DateTime<Utc>,
    pub device: DeviceId,
    pub metrics: Vec<(&'static str, f64)>,
}

impl Sample {
    /// The reading's JSON, as compact as a sensor would send it (`1021`, not `1021.0`).
    pub fn payload(&self) -> String {
        let metrics: Vec<String> = self
            .metrics
            .iter()
            .map(|(key, value)| format!(r#""{key}":{value}"#))
            .collect();
        format!(
            r#"{{"ts":"{}","metrics":{{{}}}}}"#,
            self.ts.to_rfc3339_opts(SecondsFormat::Secs, true),
            metrics.join(",")
        )
    }
}

/// What loading a file did with its rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RowStats {
    /// Data rows in the file (header and blank lines not counted).
    pub rows: u64,
    /// Readings produced.
    pub readings: u64,
    /// Rows skipped: wrong number of fields, a date or number that does not parse, a bad id.
    pub unparseable_rows: u64,
    /// Rows skipped because no value was left.
    pub rows_without_metrics: u64,
    /// Rows skipped because an earlier row had the same device and time (ingest would keep
    /// only one: `(site, device, ts)` is a reading's identity).
    pub duplicate_rows: u64,
    /// Values dropped because the file has none (`NA`).
    pub missing_values: u64,
    /// Values dropped because they are outside the metric's physical range.
    pub out_of_range_values: u64,
}

/// A data set loaded for one site, in publishing order.
#[derive(Debug, Clone)]
pub struct Replay {
    pub dataset: Dataset,
    pub site: SiteId,
    pub stats: RowStats,
    samples: Vec<Sample>,
}

impl Replay {
    /// The shipped copy of `dataset`.
    pub fn embedded(dataset: Dataset, site: SiteId) -> anyhow::Result<Self> {
        Self::load(dataset, dataset.embedded_csv(), site)
    }

    /// Reads a CSV with the data set's columns. Fails only if the header is not the data set's
    /// (the wrong file); bad rows are counted in `stats`.
    pub fn load(dataset: Dataset, csv: &str, site: SiteId) -> anyhow::Result<Self> {
        let mut lines = csv.lines();
        let header = lines
            .next()
            .unwrap_or_default()
            .trim_start_matches('\u{feff}');
        if header.trim() != dataset.header() {
            anyhow::bail!(
                "not the {dataset:?} data set: header {header:?}, expected {:?}",
                dataset.header()
            );
        }
        let mut stats = RowStats::default();
        let mut samples = Vec::new();
        for line in lines.filter(|l| !l.trim().is_empty()) {
            stats.rows += 1;
            let Ok(row) = dataset.parse_row(line.trim()) else {
                stats.unparseable_rows += 1;
                continue;
            };
            let metrics = keep_valid(&row.values, &mut stats);
            if metrics.is_empty() {
                stats.rows_without_metrics += 1;
                continue;
            }
            samples.push(Sample {
                ts: row.ts,
                device: row.device,
                metrics,
            });
        }
        // Stable: of two rows with the same device and time, the first in the file is kept.
        samples.sort_by(|a, b| (a.ts, &a.device).cmp(&(b.ts, &b.device)));
        let before = samples.len();
        samples.dedup_by(|b, a| a.ts == b.ts && a.device == b.device);
        stats.duplicate_rows = (before - samples.len()) as u64;
        stats.readings = samples.len() as u64;
        Ok(Self {
            dataset,
            site,
            stats,
            samples,
        })
    }

    /// The readings in time order (ties by device).
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// Where a sensor of this site publishes `sample`.
    pub fn subject(&self, sample: &Sample) -> String {
        subjects::raw_reading(&self.site, &sample.device)
    }

    /// `(subject, payload)` of every reading, in time order.
    pub fn readings(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.samples
            .iter()
            .map(|sample| (self.subject(sample), sample.payload()))
    }
}

/// The values ingest would accept; the others are counted.
fn keep_valid(
    values: &[(&'static str, Option<f64>)],
    stats: &mut RowStats,
) -> Vec<(&'static str, f64)> {
    let mut kept = Vec::with_capacity(values.len());
    for (key, value) in values {
        let Some(value) = value else {
            stats.missing_values += 1;
            continue;
        };
        let in_range = match MetricCatalog.lookup(key) {
            Lookup::Known(metric) => (metric.min..=metric.max).contains(value),
            _ => false,
        };
        if in_range {
            kept.push((*key, *value));
        } else {
            stats.out_of_range_values += 1;
        }
    }
    kept
}

/// A number field; `NA` (the files' gap marker) is a missing value.
fn value(field: &str) -> Result<Option<f64>, String> {
    match field.trim() {
        "NA" | "" => Ok(None),
        text => text
            .parse::<f64>()
            .map(Some)
            .map_err(|e| format!("{text:?}: {e}")),
    }
}

#[cfg(test)]
mod tests;
