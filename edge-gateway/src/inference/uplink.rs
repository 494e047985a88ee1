//! Forwarding forecasts to the hub, best effort.
//!
//! Every forecast is kept at the site (`FORECASTS_LOCAL`); the copy sent to the hub's
//! `FORECASTS` stream is for monitoring, which can live with gaps. So this path never blocks
//! or slows forecasting: forecasts wait in a bounded queue, a bounded number of publishes await
//! their acknowledgements, and while the uplink is down (publishes fail at once with no
//! responders, or time out) the forecasts of that time are counted as dropped, not resent.
//! Forecasts made during an outage are therefore missing on the hub; they remain in the site's
//! local stream for its retention.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_nats::jetstream;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::InferenceStats;

/// Forecasts waiting to be sent.
const QUEUE: usize = 4096;
/// Publishes awaiting the hub's acknowledgement.
const IN_FLIGHT: usize = 512;

#[derive(Clone)]
pub struct ForecastUplink {
    queue: mpsc::Sender<(String, Bytes)>,
    stats: Arc<InferenceStats>,
}

impl ForecastUplink {
    pub fn spawn(
        hub: jetstream::Context,
        stats: Arc<InferenceStats>,
        shutdown: CancellationToken,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (queue, pending) = mpsc::channel(QUEUE);
        let task = tokio::spawn(forward(hub, pending, stats.clone(), shutdown));
        (Self { queue, stats }, task)
    }

    /// Queues a forecast for the hub; drops it (counted) if the queue is full.
    pub fn send(&self, subject: String, payload: Bytes) {
        if self.queue.try_send((subject, payload)).is_err() {
            self.stats.forward_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn forward(
    hub: jetstream::Context,
    mut pending: mpsc::Receiver<(String, Bytes)>,
    stats: Arc<InferenceStats>,
    shutdown: CancellationToken,
) {
    let mut acks = FuturesUnordered::new();
    let mut failing = false;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            next = pending.recv(), if acks.len() < IN_FLIGHT => {
                let Some((subject, payload)) = next else { return };
                match hub.publish(subject, payload).await {
                    Ok(ack) => acks.push(ack.into_future()),
                    Err(err) => {
                        stats.forward_dropped.fetch_add(1, Ordering::Relaxed);
                        note_failure(&mut failing, &err);
                    }
                }
            }
            Some(acked) = acks.next(), if !acks.is_empty() => match acked {
                Ok(_) => {
                    stats.forwarded.fetch_add(1, Ordering::Relaxed);
                    if failing {
                        tracing::info!("forecasts reach the hub again");
                        failing = false;
                    }
                }
                Err(err) => {
                    stats.forward_dropped.fetch_add(1, Ordering::Relaxed);
                    note_failure(&mut failing, &err);
                }
            },
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
