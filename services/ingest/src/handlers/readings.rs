//! The batch handler for `edgeops.readings.>`: validate, write good rows, refuse bad ones.

use std::sync::Arc;

use async_nats::jetstream::Message;
use async_nats::jetstream::kv::Store;
use chrono::Utc;
use edgeops_bus::Outcome;
use edgeops_contracts::subjects::parse_reading_subject;
use edgeops_contracts::{ReadingLimits, SiteId};
use edgeops_store::sqlx::PgPool;
use tracing::Instrument;

use crate::domain::batch::{Incoming, Refusal, sort_batch};
use crate::domain::sites::KnownSites;
use crate::service::IngestStats;
use crate::store::write_readings;

pub struct ReadingsHandler {
    pub pool: PgPool,
    pub sites: KnownSites,
    /// Asked directly when a site is not in `sites` yet: the watch may lag a registration.
    pub sites_bucket: Store,
    pub limits: ReadingLimits,
    pub stats: Arc<IngestStats>,
}

impl edgeops_bus::BatchHandler for ReadingsHandler {
    async fn handle(&self, batch: &[Message]) -> Vec<Outcome> {
        let span = tracing::info_span!(
            "edgeops.ingest.write_batch",
            messages = batch.len(),
            inserted = tracing::field::Empty
        );
        edgeops_telemetry::propagation::continue_trace(
            &span,
            batch.first().and_then(|m| m.headers.as_ref()),
        );
        self.handle_batch(batch).instrument(span).await
    }
}

impl ReadingsHandler {
    async fn handle_batch(&self, batch: &[Message]) -> Vec<Outcome> {
        self.refresh_unknown_sites(batch).await;
        let incoming = batch.iter().map(|message| Incoming {
            subject: message.subject.as_str(),
            payload: &message.payload,
            stream_sequence: message
                .info()
                .map(|info| info.stream_sequence)
                .unwrap_or_default(),
        });
        let sorted = sort_batch(incoming, Utc::now(), &self.limits, |site| {
            self.sites.contains(site)
        });
        let mut outcomes = vec![Outcome::Ack; batch.len()];
        for code in &sorted.refused_readings {
            self.stats.record_rejected(code.as_str());
        }
        for (index, refusal) in sorted.refused {
            outcomes[index] = match refusal {
                Refusal::Message(rejection) => Outcome::Reject(rejection),
                Refusal::Readings(readings) => Outcome::RejectReadings(readings),
            };
        }
        let (indices, rows): (Vec<usize>, Vec<_>) = sorted.rows.into_iter().unzip();
        match write_readings(&self.pool, &rows).await {
            Ok(written) => {
                tracing::Span::current().record("inserted", written.inserted);
                self.stats.record_written(written, batch.len());
            }
            Err(err) => {
                tracing::warn!(error = %err, rows = rows.len(), "writing readings failed; batch will be retried");
                let reason = format!("postgres: {err}");
                for index in indices {
                    outcomes[index] = Outcome::Retry {
                        reason: reason.clone(),
                    };
                }
            }
        }
        outcomes
    }

    async fn refresh_unknown_sites(&self, batch: &[Message]) {
        let mut unknown: Vec<SiteId> = batch
            .iter()
            .filter_map(|message| {
                parse_reading_subject(message.subject.as_str()).map(|(site, _)| site)
            })
            .filter(|site| !self.sites.contains(site))
            .collect();
        unknown.sort();
        unknown.dedup();
        for site in unknown {
            match self.sites_bucket.get(site.as_str()).await {
                Ok(Some(_)) => self.sites.insert(site),
                Ok(None) => {}
                Err(err) => tracing::warn!(%site, error = %err, "looking up a site failed"),
            }
        }
    }
}
