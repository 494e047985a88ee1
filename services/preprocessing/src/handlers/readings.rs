//! The batch handler for `edgeops.readings.>`: store the samples, then recompute the feature
//! rows each touched device's new samples can change. Rows are point in time (the row of a bin
//! is computed from the samples before the bin's end), so a sample at `ts` changes only the rows
//! of `bin(ts)` and later.

use std::collections::BTreeMap;

use async_nats::jetstream::Message;
use chrono::{DateTime, Utc};
use edgeops_bus::Outcome;
use edgeops_contracts::{Reading, ReadingLimits};
use edgeops_features::resample::{bin_of, bin_time};
use edgeops_features::{FeatureSpec, compute_rows};
use edgeops_store::sqlx::{self, PgPool};

use crate::store;

pub struct ReadingsHandler {
    pub pool: PgPool,
    pub spec: FeatureSpec,
}

impl edgeops_bus::BatchHandler for ReadingsHandler {
    async fn handle(&self, batch: &[Message]) -> Vec<Outcome> {
        let now = Utc::now();
        // Invalid readings are ingest's to dead-letter; here they are simply not samples.
        let readings: Vec<Reading> = batch
            .iter()
            .flat_map(|m| {
                Reading::all_from_message(
                    m.subject.as_str(),
                    &m.payload,
                    now,
                    &ReadingLimits::default(),
                )
            })
            .filter_map(Result::ok)
            .collect();
        match self.apply(&readings).await {
            Ok(()) => vec![Outcome::Ack; batch.len()],
            Err(err) => {
                tracing::warn!(error = %err, "preprocessing a batch failed; it will be retried");
                vec![
                    Outcome::Retry {
                        reason: format!("postgres: {err}")
                    };
                    batch.len()
                ]
            }
        }
    }
}

impl ReadingsHandler {
    async fn apply(&self, readings: &[Reading]) -> Result<(), sqlx::Error> {
        store::insert_samples(&self.pool, readings).await?;
        // The earliest new sample of each device bounds what can change.
        let mut earliest: BTreeMap<(&str, &str), DateTime<Utc>> = BTreeMap::new();
        for r in readings {
            let entry = earliest
                .entry((r.site.as_str(), r.device.as_str()))
                .or_insert(r.ts);
            *entry = (*entry).min(r.ts);
        }
        for ((site, device), ts) in earliest {
            self.recompute(site, device, ts).await?;
        }
        Ok(())
    }

    /// Rebuilds the rows a new sample at `ts` can change (see [`rebuild_bounds`]).
    async fn recompute(
        &self,
        site: &str,
        device: &str,
        ts: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let (from_bin, load_from) = rebuild_bounds(&self.spec, ts);
        let mut tx = self.pool.begin().await?;
        store::lock_device(&mut tx, site, device).await?;
        let samples = store::load_samples(&mut tx, site, device, bin_time(load_from)).await?;
        let rows = compute_rows(&self.spec, &samples, Some(from_bin));
        store::replace_rows(&mut tx, &self.spec, site, device, bin_time(from_bin), &rows).await?;
        tx.commit().await?;
        tracing::debug!(site, device, rows = rows.len(), "feature rows recomputed");
        Ok(())
    }
}

/// After a new sample at `ts`: rows from `bin(ts)` on are rebuilt (no earlier row can see a
/// sample at `ts`), from the samples from `load_margin_bins` before that bin on, the oldest any
/// of those rows needs. Returns both bin starts: `(from_bin, load_from)`.
fn rebuild_bounds(spec: &FeatureSpec, ts: DateTime<Utc>) -> (i64, i64) {
    let interval = spec.interval_secs;
    let from_bin = bin_of(ts, interval);
    (
        from_bin,
        from_bin - spec.load_margin_bins() as i64 * interval,
    )
}

#[cfg(test)]
mod tests;
