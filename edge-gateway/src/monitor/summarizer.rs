//! The summarizer: reads the site's raw readings (`READINGS_LOCAL`) and the gateway's own
//! forecasts (`FORECASTS_LOCAL`) in order, feeds them to [`Summaries`], and stores each due
//! window summary in `SUMMARIES_LOCAL` (`Nats-Msg-Id` = the summary's natural key), awaiting
//! the local acknowledgement before it saves its checkpoint.
//!
//! **Restarts are exact.** The checkpoint (`summarize.cursor`, JSON) is saved after every
//! emission and names local sequences before everything an open window holds or needs, with
//! the watermark and clocks: re-reading from there rebuilds the open windows as they were. What
//! was stored after the checkpoint but before a crash is not stored again: summaries are emitted
//! in increasing (window start, device) order, so the last summary in `SUMMARIES_LOCAL` says
//! exactly which were stored, and a rebuilt run skips every key up to it. This does not lean on
//! the stream's 120 s duplicate window, which a long stop outlasts. Any failure rebuilds the
//! state from the checkpoint the same way.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::consumer::pull;
use async_nats::jetstream::kv::Store;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, Message};
use edgeops_contracts::deployment::Forecast;
use edgeops_contracts::monitoring::{MAX_SUMMARY_BYTES, WindowSummary};
use edgeops_contracts::{DeviceId, Reading, ReadingLimits, SiteId, streams, subjects};
use edgeops_features::FeatureSpec;
use futures::StreamExt;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::device::ModelInfo;
use super::summaries::{Checkpoint, MAX_AHEAD_OF_FORECASTS, Summaries};
use super::window::{EmissionRule, margin_secs, settle_secs};
use crate::backoff::Backoff;
use crate::forward::ForwarderStats;
use crate::forward::batch::messages_after;
use crate::inference::ModelTable;

/// Where the summarizer keeps its [`Checkpoint`] in the gateway's KV bucket.
pub const CHECKPOINT_KEY: &str = "summarize.cursor";

/// Forecasts count as caught up once none came for this long after the last one stored was
/// read (see [`EmissionRule`]).
const FORECASTS_QUIET: Duration = Duration::from_secs(5);

pub struct Summarizer {
    pub site: SiteId,
    pub local: jetstream::Context,
    pub state: Store,
    /// The spec and horizon persistence forecasts by before a device has a model.
    pub default_spec: FeatureSpec,
    pub persistence_horizon_bins: u32,
    /// The models the gateway serves; `None` when it does not forecast.
    pub models: Option<Arc<ModelTable>>,
    /// Counts summaries stored (and stores found duplicate).
    pub stats: Arc<ForwarderStats>,
    /// The windows' length in seconds.
    pub window_secs: u32,
}

#[derive(Debug, thiserror::Error)]
enum SummarizeError {
    #[error("at the site's JetStream: {0}")]
    Local(async_nats::Error),
    #[error("the checkpoint {CHECKPOINT_KEY} is not readable: {0}")]
    Corrupt(serde_json::Error),
}

fn local(e: impl Into<async_nats::Error>) -> SummarizeError {
    SummarizeError::Local(e.into())
}

impl Summarizer {
    /// Summarizes until `shutdown`; after a failure it rebuilds from the checkpoint.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut known: HashMap<(String, u32), Arc<ModelInfo>> = HashMap::new();
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        while !shutdown.is_cancelled() {
            match self.summarize(&mut known, &shutdown).await {
                Ok(()) => return,
                Err(err) => {
                    tracing::warn!(site = %self.site, error = %err, backoff = ?backoff.next(), "summarizing paused; rebuilding from the checkpoint");
                    if backoff.wait(&shutdown).await {
                        return;
                    }
                }
            }
        }
    }

    async fn summarize(
        &self,
        known: &mut HashMap<(String, u32), Arc<ModelInfo>>,
        shutdown: &CancellationToken,
    ) -> Result<(), SummarizeError> {
        let checkpoint = self.load_checkpoint().await?;
        let rule = EmissionRule {
            settle_secs: settle_secs(&self.default_spec),
            wait_for_forecasts: self.models.is_some(),
            window_secs: i64::from(self.window_secs),
        };
        let margin = margin_secs(&self.default_spec, self.persistence_horizon_bins);
        let targets = [self.default_spec.target.clone()].into();
        let mut summaries = Summaries::resume(self.site.clone(), rule, margin, targets, checkpoint);
        self.learn_models(&mut summaries, known);
        let stored_through = self.last_stored().await?;
        tracing::info!(site = %self.site, ?checkpoint, ?stored_through, "summarizer resuming");
        let mut raw = self
            .consumer(
                streams::LOCAL_READINGS,
                subjects::all_raw_readings(),
                checkpoint.raw_after,
            )
            .await?;
        let mut forecasts = match self.models {
            Some(_) => Some(
                self.consumer(
                    streams::LOCAL_FORECASTS,
                    subjects::forecasts_of_site(&self.site),
                    checkpoint.forecasts_after,
                )
                .await?,
            ),
            None => None,
        };
        let mut forecast_seen = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let limits = ReadingLimits::default();
        loop {
            let caught_up = forecasts.is_none() || forecast_seen.elapsed() >= FORECASTS_QUIET;
            let read_raw = caught_up || summaries.ahead_of_forecasts() < MAX_AHEAD_OF_FORECASTS;
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                next = raw.next(), if read_raw => {
                    let message = next.ok_or_else(|| local("the raw consumer ended"))?.map_err(local)?;
                    let sequence = message.info().map_err(local)?.stream_sequence;
                    let reading = Reading::from_message(&message.subject, &message.payload, chrono::Utc::now(), &limits);
                    match reading {
                        Ok(reading) => summaries.observe_reading(sequence, &reading),
                        Err(_) => summaries.observe_reading_sequence(sequence),
                    }
                }
                next = next_of(&mut forecasts) => {
                    let message = next.ok_or_else(|| local("the forecast consumer ended"))?.map_err(local)?;
                    forecast_seen = Instant::now();
                    self.observe_forecast(&mut summaries, known, &message)?;
                }
                _ = tick.tick() => self.learn_models(&mut summaries, known),
            }
            let caught_up = forecasts.is_none() || forecast_seen.elapsed() >= FORECASTS_QUIET;
            let due = summaries.take_due(caught_up);
            if !due.is_empty() {
                self.store(due, stored_through.as_ref()).await?;
                self.save_checkpoint(&summaries.checkpoint()).await?;
            }
        }
    }

    fn observe_forecast(
        &self,
        summaries: &mut Summaries,
        known: &mut HashMap<(String, u32), Arc<ModelInfo>>,
        message: &Message,
    ) -> Result<(), SummarizeError> {
        let sequence = message.info().map_err(local)?.stream_sequence;
        let Ok(forecast) = serde_json::from_slice::<Forecast>(&message.payload) else {
            tracing::warn!(site = %self.site, sequence, "not a forecast; passed over");
            summaries.observe_forecast_sequence(sequence);
            return Ok(());
        };
        let info = match (&forecast.model, forecast.version) {
            (Some(model), Some(version)) => {
                let key = (model.clone(), version);
                if !known.contains_key(&key) {
                    self.learn_models(summaries, known);
                }
                known.get(&key).cloned()
            }
            _ => None,
        };
        summaries.observe_forecast(sequence, &forecast, info);
        Ok(())
    }

    /// Learns every model version the table holds (current and previous of every device).
    fn learn_models(
        &self,
        summaries: &mut Summaries,
        known: &mut HashMap<(String, u32), Arc<ModelInfo>>,
    ) {
        let Some(table) = &self.models else { return };
        for device in table.devices() {
            let slots = table.slots(&device);
            for active in [slots.current, slots.previous].into_iter().flatten() {
                let key = (active.desired.model.clone(), active.desired.version);
                if known.contains_key(&key) {
                    continue;
                }
                let info = ModelInfo {
                    model: key.0.clone(),
                    version: key.1,
                    spec: active.spec.clone(),
                    horizon_bins: active.horizon_bins(),
                    reference: active.desired.signed.manifest.reference.clone(),
                };
                summaries.learn(
                    &info.spec.target,
                    margin_secs(&info.spec, info.horizon_bins),
                    settle_secs(&info.spec),
                );
                known.insert(key, Arc::new(info));
            }
        }
    }

    /// Stores `due` at the site, skipping what a previous run already stored, each
    /// acknowledged before returning.
    async fn store(
        &self,
        due: Vec<WindowSummary>,
        stored_through: Option<&(i64, DeviceId)>,
    ) -> Result<(), SummarizeError> {
        let mut acks = Vec::new();
        for mut summary in due {
            if stored_through.is_some_and(|last| Summaries::order_key(&summary) <= *last) {
                continue;
            }
            let mut payload = serde_json::to_vec(&summary).map_err(local)?;
            if payload.len() > MAX_SUMMARY_BYTES {
                tracing::warn!(site = %self.site, device = %summary.device, bytes = payload.len(), "summary too long; sent without its features");
                summary.features.clear();
                payload = serde_json::to_vec(&summary).map_err(local)?;
            }
            let publish = PublishMessage::build()
                .payload(payload.into())
                .message_id(summary.message_id());
            let subject = subjects::local_summary(&self.site, &summary.device);
            acks.push(
                self.local
                    .send_publish(subject, publish)
                    .await
                    .map_err(local)?,
            );
            tracing::debug!(site = %self.site, device = %summary.device, window_start = %summary.window_start, readings = summary.readings, "window summary stored");
        }
        for ack in acks {
            let ack = ack.await.map_err(local)?;
            let counter = if ack.duplicate {
                tracing::warn!(site = %self.site, sequence = ack.sequence, "a window summary was stored twice");
                &self.stats.summaries_duplicate
            } else {
                &self.stats.summaries_stored
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The key of the last summary stored at the site, if any.
    async fn last_stored(&self) -> Result<Option<(i64, DeviceId)>, SummarizeError> {
        let mut stream = self
            .local
            .get_stream(streams::LOCAL_SUMMARIES)
            .await
            .map_err(local)?;
        let last = stream.info().await.map_err(local)?.state.last_sequence;
        if last == 0 {
            return Ok(None);
        }
        let message = match stream.get_raw_message(last).await {
            Ok(message) => message,
            // Expired by the stream's age limit: the checkpoint's watermark covers it.
            Err(_) => return Ok(None),
        };
        Ok(serde_json::from_slice::<WindowSummary>(&message.payload)
            .ok()
            .map(|s| Summaries::order_key(&s)))
    }

    async fn consumer(
        &self,
        stream: &str,
        filter_subject: String,
        after: u64,
    ) -> Result<pull::Ordered, SummarizeError> {
        messages_after(&self.local, stream, filter_subject, after)
            .await
            .map_err(SummarizeError::Local)
    }

    async fn load_checkpoint(&self) -> Result<Checkpoint, SummarizeError> {
        match self.state.get(CHECKPOINT_KEY).await.map_err(local)? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(SummarizeError::Corrupt),
            None => Ok(Checkpoint::default()),
        }
    }

    async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), SummarizeError> {
        let bytes = serde_json::to_vec(checkpoint).map_err(local)?;
        self.state
            .put(CHECKPOINT_KEY, bytes.into())
            .await
            .map_err(local)?;
        Ok(())
    }
}

/// The next forecast, or never when the gateway does not forecast.
async fn next_of(
    forecasts: &mut Option<pull::Ordered>,
) -> Option<Result<Message, async_nats::jetstream::consumer::pull::OrderedError>> {
    match forecasts {
        Some(messages) => messages.next().await,
        None => std::future::pending().await,
    }
}
