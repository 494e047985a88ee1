//! A labelled dataset cut from feature rows: each example is a device's feature row at bin `t`
//! with the target metric's value at `t + horizon` as its label. Examples are pooled across the
//! devices of a scope and split by time, never at random, so no label of the training part lies
//! in the holdout's period.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use edgeops_features::{FeatureRow, FeatureSpec};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One device's feature rows (any order), as the preprocessing service stored them.
#[derive(Debug, Clone)]
pub struct DeviceRows {
    /// `site/device`.
    pub device: String,
    pub rows: Vec<FeatureRow>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DatasetError {
    #[error("no feature rows in the requested scope and range")]
    NoRows,
    #[error("a feature row of {device} has {found} values, the spec {spec} names {expected}")]
    WrongWidth {
        device: String,
        spec: String,
        expected: usize,
        found: usize,
    },
    #[error("feature {0:?} is missing (NaN or infinite) in every row")]
    FeatureAlwaysMissing(String),
    #[error("too few examples: {part} has {have}, at least {need} are needed")]
    TooFewRows {
        part: &'static str,
        have: usize,
        need: usize,
    },
    #[error("the spec's target {0:?} is not one of its features")]
    TargetNotAFeature(String),
}

/// Examples in a row-major matrix. Values are rounded to `f32`, the precision the ONNX model
/// computes in, so a tree's split decides the same way in Rust and in ONNX Runtime.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub feature_names: Vec<String>,
    /// Column holding the target metric's current value: the persistence forecast.
    pub target_index: usize,
    pub horizon_bins: u32,
    pub interval_secs: i64,
    x: Vec<f64>,
    pub y: Vec<f64>,
    /// Bin start of each example's feature row (unix seconds).
    pub ts: Vec<i64>,
    /// The seasonal-naive forecast (the target one day before the label's time), where the
    /// data have a daily cycle and that value exists.
    pub seasonal: Vec<Option<f64>>,
    /// Rows dropped because a value was NaN or infinite.
    pub dropped_rows: usize,
    /// SHA-256 over the spec, horizon and every example: equal datasets, equal fingerprints.
    pub content_sha256: String,
}

/// Indices into a `Dataset`, split by time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    pub train: Vec<usize>,
    pub holdout: Vec<usize>,
    /// First bin of the holdout period.
    pub cutoff: DateTime<Utc>,
}

fn round_to_f32(value: f64) -> f64 {
    f64::from(value as f32)
}

impl Dataset {
    pub fn build(
        spec: &FeatureSpec,
        horizon_bins: u32,
        devices: &[DeviceRows],
    ) -> Result<Dataset, DatasetError> {
        let feature_names = spec.names();
        let target_index = feature_names
            .iter()
            .position(|name| *name == spec.target)
            .ok_or_else(|| DatasetError::TargetNotAFeature(spec.target.clone()))?;
        let interval = spec.interval_secs;
        let season_bins = (86_400 % interval == 0).then_some(86_400 / interval);
        let mut dataset = Dataset {
            feature_names,
            target_index,
            horizon_bins,
            interval_secs: interval,
            x: Vec::new(),
            y: Vec::new(),
            ts: Vec::new(),
            seasonal: Vec::new(),
            dropped_rows: 0,
            content_sha256: String::new(),
        };
        let mut hasher = Sha256::new();
        hasher.update(format!("{}:{}:{horizon_bins}\n", spec.name, spec.version));
        let mut ordered: Vec<&DeviceRows> = devices.iter().collect();
        ordered.sort_by(|a, b| a.device.cmp(&b.device));
        let mut seen_values = vec![false; dataset.feature_names.len()];
        for device in ordered {
            let by_bin = usable_rows(&mut dataset, &spec.name, device, &mut seen_values)?;
            hasher.update(device.device.as_bytes());
            for (bin, values) in &by_bin {
                let Some(label) = by_bin.get(&(bin + i64::from(horizon_bins) * interval)) else {
                    continue;
                };
                let seasonal = season_bins
                    .filter(|season| *season > i64::from(horizon_bins))
                    .and_then(|season| {
                        let back = (season - i64::from(horizon_bins)) * interval;
                        by_bin.get(&(bin - back)).map(|row| row[target_index])
                    });
                hasher.update(bin.to_le_bytes());
                values.iter().for_each(|v| hasher.update(v.to_le_bytes()));
                dataset.x.extend_from_slice(values);
                dataset.y.push(label[target_index]);
                dataset.ts.push(*bin);
                dataset.seasonal.push(seasonal);
            }
        }
        if dataset.ts.is_empty() && dataset.dropped_rows == 0 {
            return Err(DatasetError::NoRows);
        }
        if let Some(column) = seen_values.iter().position(|seen| !seen) {
            return Err(DatasetError::FeatureAlwaysMissing(
                dataset.feature_names[column].clone(),
            ));
        }
        dataset.content_sha256 = hex::encode(hasher.finalize());
        Ok(dataset)
    }

    pub fn rows(&self) -> usize {
        self.y.len()
    }

    pub fn cols(&self) -> usize {
        self.feature_names.len()
    }

    pub fn row(&self, index: usize) -> &[f64] {
        let cols = self.cols();
        &self.x[index * cols..(index + 1) * cols]
    }

    /// The persistence forecast of an example: the target's value at the row's own bin.
    pub fn current(&self, index: usize) -> f64 {
        self.row(index)[self.target_index]
    }

    /// The last `holdout_share` of the period is the holdout; training keeps only examples whose
    /// label time is before the holdout begins.
    pub fn split(
        &self,
        holdout_share: f64,
        min_train: usize,
        min_holdout: usize,
    ) -> Result<Split, DatasetError> {
        let indices: Vec<usize> = (0..self.rows()).collect();
        self.split_indices(&indices, holdout_share, min_train, min_holdout)
    }

    /// `split` applied to a subset (e.g. the training part, to carve out a validation part).
    pub fn split_indices(
        &self,
        indices: &[usize],
        holdout_share: f64,
        min_train: usize,
        min_holdout: usize,
    ) -> Result<Split, DatasetError> {
        let mut times: Vec<i64> = indices.iter().map(|i| self.ts[*i]).collect();
        times.sort_unstable();
        times.dedup();
        let cut_at = ((times.len() as f64) * (1.0 - holdout_share)).floor() as usize;
        let Some(cutoff) = times
            .get(cut_at.min(times.len().saturating_sub(1)))
            .copied()
        else {
            return Err(DatasetError::TooFewRows {
                part: "the dataset",
                have: 0,
                need: min_train + min_holdout,
            });
        };
        let horizon = i64::from(self.horizon_bins) * self.interval_secs;
        let train: Vec<usize> = indices
            .iter()
            .copied()
            .filter(|i| self.ts[*i] + horizon < cutoff)
            .collect();
        let holdout: Vec<usize> = indices
            .iter()
            .copied()
            .filter(|i| self.ts[*i] >= cutoff)
            .collect();
        for (part, have, need) in [
            ("the training part", train.len(), min_train),
            ("the holdout", holdout.len(), min_holdout),
        ] {
            if have < need {
                return Err(DatasetError::TooFewRows { part, have, need });
            }
        }
        Ok(Split {
            train,
            holdout,
            cutoff: DateTime::<Utc>::from_timestamp(cutoff, 0).unwrap_or_default(),
        })
    }

    /// SHA-256 of the holdout's examples: names the set two versions are compared on.
    pub fn holdout_fingerprint(&self, holdout: &[usize]) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.content_sha256.as_bytes());
        holdout
            .iter()
            .for_each(|i| hasher.update((*i as u64).to_le_bytes()));
        hex::encode(hasher.finalize())
    }
}

/// A device's rows by bin, rounded to f32; rows with a non-finite value are counted and left out.
fn usable_rows(
    dataset: &mut Dataset,
    spec_name: &str,
    device: &DeviceRows,
    seen_values: &mut [bool],
) -> Result<BTreeMap<i64, Vec<f64>>, DatasetError> {
    let width = dataset.feature_names.len();
    let mut by_bin = BTreeMap::new();
    for row in &device.rows {
        if row.values.len() != width {
            return Err(DatasetError::WrongWidth {
                device: device.device.clone(),
                spec: spec_name.to_owned(),
                expected: width,
                found: row.values.len(),
            });
        }
        for (seen, value) in seen_values.iter_mut().zip(&row.values) {
            *seen |= value.is_finite();
        }
        if row.values.iter().all(|v| v.is_finite()) {
            let values = row.values.iter().copied().map(round_to_f32).collect();
            by_bin.insert(row.ts.timestamp(), values);
        } else {
            dataset.dropped_rows += 1;
        }
    }
    Ok(by_bin)
}

#[cfg(test)]
mod tests;
