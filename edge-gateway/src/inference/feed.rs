//! Feeds the site's reduced readings to the engine and publishes its forecasts.
//!
//! Reads the reduction stage's reading records in `REDUCED_LOCAL` (what travels to the hub, and
//! so what preprocessing builds training rows from: the model is served what it was trained
//! on) with an ordered consumer of its own (the forwarder's cursor is not involved: forecasting
//! and forwarding progress independently, and a dead uplink never delays a forecast). On start
//! it replays the readings of the last `Engine::history_needed` so that windows are full again
//! after a restart; replayed readings fill windows but produce no forecasts (those were made
//! before the restart). One forecast per new reading, published at the site on
//! `edgeops.forecasts.<site>.<device>` and offered to the hub uplink (which sends the one made
//! when each feature bin closed).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use async_nats::jetstream::{self, Message};
use edgeops_contracts::deployment::{Forecast, ForecastKind};
use edgeops_contracts::{ReadingLimits, SiteId, streams, subjects};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::InferenceStats;
use super::engine::Engine;
use super::uplink::ForecastUplink;
use crate::backoff::Backoff;
use crate::reduction::record;

pub struct Feed {
    pub site: SiteId,
    pub client: async_nats::Client,
    pub local: jetstream::Context,
    pub engine: Engine,
    /// `None` when forecasts are not forwarded to the hub.
    pub uplink: Option<ForecastUplink>,
    pub stats: Arc<InferenceStats>,
}

#[derive(Debug, thiserror::Error)]
#[error("reading the local stream: {0}")]
struct LocalError(async_nats::Error);

impl Feed {
    /// Forecasts until `shutdown`; a broken local consumer is recreated after the last reading
    /// it delivered.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut resume: Option<u64> = None;
        let mut replay_until = 0;
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        while !shutdown.is_cancelled() {
            match self
                .consume(&mut resume, &mut replay_until, &shutdown)
                .await
            {
                Ok(()) => return,
                Err(err) => {
                    tracing::warn!(site = %self.site, error = %err, backoff = ?backoff.next(), "forecasting paused; resuming");
                    if backoff.wait(&shutdown).await {
                        return;
                    }
                }
            }
        }
    }

    /// Consumes from after `resume` (or, first, from the replay start), updating `resume` as
    /// readings are handled.
    async fn consume(
        &mut self,
        resume: &mut Option<u64>,
        replay_until: &mut u64,
        shutdown: &CancellationToken,
    ) -> Result<(), LocalError> {
        let local = |e: async_nats::Error| LocalError(e);
        let mut stream = self
            .local
            .get_stream(streams::LOCAL_REDUCED)
            .await
            .map_err(|e| local(e.into()))?;
        let deliver_policy = match *resume {
            Some(last) => DeliverPolicy::ByStartSequence {
                start_sequence: last + 1,
            },
            None => {
                *replay_until = stream
                    .info()
                    .await
                    .map_err(|e| local(e.into()))?
                    .state
                    .last_sequence;
                self.replay_policy().map_err(local)?
            }
        };
        let consumer = stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: subjects::local_reduced(&self.site),
                deliver_policy,
                ..Default::default()
            })
            .await
            .map_err(|e| local(e.into()))?;
        let mut messages = consumer.messages().await.map_err(|e| local(e.into()))?;
        self.stats.feeding.store(true, Ordering::Relaxed);
        let limits = ReadingLimits::default();
        loop {
            let message = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                next = messages.next() => match next {
                    Some(Ok(message)) => message,
                    Some(Err(err)) => return Err(local(err.into())),
                    None => return Err(local("the local consumer ended".into())),
                },
            };
            let sequence = message.info().map_err(local)?.stream_sequence;
            let live = sequence > *replay_until;
            let fed = self.handle(&message, &limits, live).await;
            if live {
                self.stats.readings.fetch_add(fed, Ordering::Relaxed);
            }
            *resume = Some(sequence);
        }
    }

    /// Readings from `history_needed` ago: enough to fill every window.
    fn replay_policy(&self) -> Result<DeliverPolicy, async_nats::Error> {
        let since = chrono::Utc::now() - self.engine.history_needed();
        let nanos = since.timestamp_nanos_opt().unwrap_or_default();
        let start_time = async_nats::datetime::from_nanos(i128::from(nanos))?;
        Ok(DeliverPolicy::ByStartTime { start_time })
    }

    /// Feeds the readings of one reduction record; returns how many there were.
    async fn handle(&mut self, message: &Message, limits: &ReadingLimits, live: bool) -> u64 {
        let now = chrono::Utc::now();
        let planned = match record::decode(&message.payload) {
            Ok(planned) => planned,
            Err(err) => {
                tracing::error!(site = %self.site, error = %err, "not a reduction record; passed over");
                return 0;
            }
        };
        let mut fed = 0;
        // Readings the hub would refuse are not forecast from either; ingest dead-letters them.
        for reading in planned
            .iter()
            .filter_map(|outgoing| record::reading_of(outgoing, now, limits))
        {
            fed += 1;
            if !live {
                self.engine.remember(&reading);
            } else if let Some(forecast) = self.engine.observe(&reading) {
                self.publish(forecast).await;
            }
        }
        fed
    }

    async fn publish(&self, mut forecast: Forecast) {
        let counter = match forecast.kind {
            ForecastKind::Model => &self.stats.forecasts_model,
            ForecastKind::Persistence => &self.stats.forecasts_persistence,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let Ok(payload) = serde_json::to_vec(&forecast) else {
            return;
        };
        let payload = bytes::Bytes::from(payload);
        let subject = subjects::forecast(&forecast.site, &forecast.device);
        if let Err(err) = self.client.publish(subject, payload).await {
            tracing::warn!(error = %err, "publishing a forecast at the site failed");
        }
        if let Some(uplink) = &self.uplink {
            // The hub has the model's input in preprocessing's rows: the uplink never carries it.
            forecast.features = None;
            uplink.send(forecast);
        }
    }
}
