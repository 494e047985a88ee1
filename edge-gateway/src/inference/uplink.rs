//! Forwarding models' forecasts to the hub, best effort, at most one per device and feature bin.
//!
//! Every forecast is kept at the site (`FORECASTS_LOCAL`); the hub's `FORECASTS` stream gets the
//! forecast made when each bin closed (see [`super::bins`]), for monitoring and the rollout
//! gates, which judge forecasts per origin bin. Released forecasts are sent about once a second,
//! the site's in one message on `edgeops.hub.forecasts.<site>` (a [`ForecastPack`] per device,
//! zstd-compressed when that is smaller), so a forecast costs a few bytes of uplink rather than a
//! message of its own.
//!
//! This path never blocks or slows forecasting: forecasts wait in a bounded queue, a bounded
//! number of publishes await their acknowledgements, and while the uplink is down (publishes fail
//! at once with no responders, or time out) the forecasts of that time are counted as dropped,
//! not resent. They remain in the site's local stream for its retention.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream;
use edgeops_contracts::deployment::{Forecast, ForecastKind, ForecastPack};
use edgeops_contracts::{DeviceId, SiteId, compression, subjects};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::InferenceStats;
use super::bins::{BinCloser, Release};

/// Forecasts waiting to be sent.
const QUEUE: usize = 4096;
/// Publishes awaiting the hub's acknowledgement.
const IN_FLIGHT: usize = 512;
/// How often released forecasts are packed and sent.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Released forecasts that are sent at once, without waiting for the next flush.
const FLUSH_AT: usize = 2_000;
/// Significant digits of a forecast's value on the uplink (of the largest in its pack): a
/// relative 5e-4 at most, far below any model's error, and what makes values compress.
pub const SIGNIFICANT_DIGITS: i32 = 4;

/// Packs of at least this many bytes travel compressed when that is smaller.
const COMPRESS_FROM_BYTES: usize = 256;

#[derive(Clone)]
pub struct ForecastUplink {
    queue: mpsc::Sender<Forecast>,
    stats: Arc<InferenceStats>,
}

impl ForecastUplink {
    pub fn spawn(
        site: SiteId,
        hub: jetstream::Context,
        stats: Arc<InferenceStats>,
        shutdown: CancellationToken,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (queue, pending) = mpsc::channel(QUEUE);
        let task = tokio::spawn(forward(site, hub, pending, stats.clone(), shutdown));
        (Self { queue, stats }, task)
    }

    /// Offers a forecast for the hub; drops it (counted) if the queue is full. Only a model's
    /// forecasts travel: persistence is what the hub computes itself from the bins it holds
    /// (the live gate does), so sending it would spend uplink on nothing.
    pub fn send(&self, forecast: Forecast) {
        if forecast.kind != ForecastKind::Model {
            return;
        }
        if self.queue.try_send(forecast).is_err() {
            self.stats.forward_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A publish awaiting its acknowledgement, and how many forecasts it carries.
type Pending = futures::future::BoxFuture<'static, (Result<(), String>, u64)>;

async fn forward(
    site: SiteId,
    hub: jetstream::Context,
    mut pending: mpsc::Receiver<Forecast>,
    stats: Arc<InferenceStats>,
    shutdown: CancellationToken,
) {
    let mut closer = BinCloser::default();
    let mut released: Vec<Forecast> = Vec::new();
    let mut acks: FuturesUnordered<Pending> = FuturesUnordered::new();
    let mut failing = false;
    let mut flush = tokio::time::interval(FLUSH_EVERY);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            next = pending.recv(), if acks.len() < IN_FLIGHT => {
                let Some(forecast) = next else { return };
                released.extend(closer.offer(forecast, chrono::Utc::now()));
                if released.len() >= FLUSH_AT {
                    send_packs(&hub, &site, std::mem::take(&mut released), &mut acks, &stats, &mut failing).await;
                }
            }
            _ = flush.tick() => {
                released.extend(closer.due(chrono::Utc::now(), Release::default()));
                if !released.is_empty() {
                    send_packs(&hub, &site, std::mem::take(&mut released), &mut acks, &stats, &mut failing).await;
                }
            }
            Some((acked, count)) = acks.next(), if !acks.is_empty() => match acked {
                Ok(()) => {
                    stats.forwarded.fetch_add(count, Ordering::Relaxed);
                    if failing {
                        tracing::info!("forecasts reach the hub again");
                        failing = false;
                    }
                }
                Err(err) => {
                    stats.forward_dropped.fetch_add(count, Ordering::Relaxed);
                    note_failure(&mut failing, &err);
                }
            },
        }
    }
}

/// Publishes `released` (the site's) as one message: a JSON array of packs, one per device and
/// run of like forecasts, compressed when smaller. Devices' bins close together on the wall
/// clock, so a live flush holds one forecast of each device, and what the packs share (names,
/// model, horizon) is written once by the compressor rather than once per device.
async fn send_packs(
    hub: &jetstream::Context,
    site: &SiteId,
    released: Vec<Forecast>,
    acks: &mut FuturesUnordered<Pending>,
    stats: &InferenceStats,
    failing: &mut bool,
) {
    let mut by_device: BTreeMap<DeviceId, Vec<Forecast>> = BTreeMap::new();
    for forecast in released {
        by_device
            .entry(forecast.device.clone())
            .or_default()
            .push(forecast);
    }
    let packs: Vec<ForecastPack> = by_device
        .into_values()
        .flat_map(|mut forecasts| {
            forecasts.sort_by_key(|f| f.ts);
            ForecastPack::pack(&forecasts, SIGNIFICANT_DIGITS)
        })
        .collect();
    let count: u64 = packs.iter().map(|p| p.value_steps.len() as u64).sum();
    let Ok(text) = serde_json::to_vec(&packs) else {
        return;
    };
    let payload = if text.len() >= COMPRESS_FROM_BYTES {
        compression::compress_if_smaller(text)
    } else {
        text
    };
    match hub
        .publish(subjects::hub_forecasts_of_site(site), payload.into())
        .await
    {
        Ok(ack) => acks.push(Box::pin(async move {
            (ack.await.map(|_| ()).map_err(|e| e.to_string()), count)
        })),
        Err(err) => {
            stats.forward_dropped.fetch_add(count, Ordering::Relaxed);
            note_failure(failing, &err);
        }
    }
}

/// Logs the first failure of an outage, not every forecast lost to it.
fn note_failure(failing: &mut bool, err: &dyn std::fmt::Display) {
    if !*failing {
        tracing::warn!(error = %err, "forecasts are not reaching the hub; dropping them until the uplink returns (they stay in the local stream)");
        *failing = true;
    }
}
