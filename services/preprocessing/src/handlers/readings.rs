//! The batch handler for `edgeops.readings.>`: store the samples, then recompute the feature
//! rows each touched device's new samples can change.

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

    /// Rows from `bin(ts) - reach` on are rebuilt from the samples from `load_margin` before that.
    async fn recompute(
        &self,
        site: &str,
        device: &str,
        ts: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let interval = self.spec.interval_secs;
        let from_bin = bin_of(ts, interval) - self.spec.reach_bins() as i64 * interval;
        let load_from = from_bin - self.spec.load_margin_bins() as i64 * interval;
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
