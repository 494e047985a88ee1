//! The projection's lag: readings in the hub stream that ingest has not written yet. Polled
//! from the consumer's state, exported as a gauge and reported on the status endpoint.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::Context;
use edgeops_bus::topology::INGEST_CONSUMER;
use edgeops_contracts::streams;
use edgeops_telemetry::names;
use tokio_util::sync::CancellationToken;

use crate::service::IngestStats;

const POLL_EVERY: Duration = Duration::from_secs(2);

/// Polls the consumer until `shutdown`; the gauge reads the last value.
pub async fn follow_lag(js: Context, stats: Arc<IngestStats>, shutdown: CancellationToken) {
    let gauge_stats = stats.clone();
    let _gauge = opentelemetry::global::meter("edgeops.ingest")
        .u64_observable_gauge(names::INGEST_LAG_MESSAGES)
        .with_description("Readings in the hub stream not yet written to Postgres")
        .with_callback(move |observer| observer.observe(gauge_stats.lag(), &[]))
        .build();
    loop {
        match js.get_stream(streams::HUB_READINGS).await {
            Ok(stream) => match stream.consumer_info(INGEST_CONSUMER).await {
                Ok(info) => stats.record_lag(info.num_pending + info.num_ack_pending as u64),
                Err(err) => tracing::debug!(error = %err, "reading ingest's consumer state"),
            },
            Err(err) => tracing::debug!(error = %err, "reading the readings stream"),
        }
        tokio::select! {
            () = tokio::time::sleep(POLL_EVERY) => {}
            () = shutdown.cancelled() => return,
        }
    }
}
