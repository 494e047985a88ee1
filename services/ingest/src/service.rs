//! ingest as a NATS micro service: `nats micro ls` lists it, `$SRV.PING/INFO/STATS` answer
//! (STATS with ingest's counters as the endpoint's `data`), and `edgeops.svc.ingest.status`
//! returns the same counters as JSON.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_nats::service::Request;
use edgeops_telemetry::names;
use opentelemetry::metrics::Counter;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::store::Written;

pub const SERVICE_NAME: &str = "ingest";

/// Counters since start; exported as OpenTelemetry metrics and on the status endpoint.
pub struct IngestStats {
    accepted: AtomicU64,
    duplicates: AtomicU64,
    rejected: AtomicU64,
    batches: AtomicU64,
    /// Readings in the hub stream not yet written (the projection's lag), as last polled.
    lag_messages: AtomicU64,
    rejected_by_reason: Mutex<BTreeMap<String, u64>>,
    accepted_counter: Counter<u64>,
    duplicate_counter: Counter<u64>,
    rejected_counter: Counter<u64>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct StatusReport {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub batches: u64,
    pub lag_messages: u64,
    pub rejected_by_reason: BTreeMap<String, u64>,
    pub known_sites: usize,
}

impl Default for IngestStats {
    fn default() -> Self {
        let meter = opentelemetry::global::meter("edgeops.ingest");
        Self {
            accepted: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            lag_messages: AtomicU64::new(0),
            rejected_by_reason: Mutex::new(BTreeMap::new()),
            accepted_counter: meter.u64_counter(names::INGEST_READINGS_ACCEPTED).build(),
            duplicate_counter: meter.u64_counter(names::INGEST_READINGS_DUPLICATE).build(),
            rejected_counter: meter.u64_counter(names::INGEST_READINGS_REJECTED).build(),
        }
    }
}

impl IngestStats {
    pub fn record_written(&self, written: Written, batch_len: usize) {
        self.accepted.fetch_add(written.inserted, Ordering::Relaxed);
        self.duplicates
            .fetch_add(written.duplicates, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.accepted_counter.add(written.inserted, &[]);
        self.duplicate_counter.add(written.duplicates, &[]);
        tracing::debug!(
            batch_len,
            inserted = written.inserted,
            duplicates = written.duplicates,
            "batch written"
        );
    }

    pub fn record_rejected(&self, reason: &str) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
        self.rejected_counter.add(
            1,
            &[opentelemetry::KeyValue::new("reason", reason.to_owned())],
        );
        if let Ok(mut by_reason) = self.rejected_by_reason.lock() {
            *by_reason.entry(reason.to_owned()).or_default() += 1;
        }
    }

    pub fn record_lag(&self, pending: u64) {
        self.lag_messages.store(pending, Ordering::Relaxed);
    }

    pub fn lag(&self) -> u64 {
        self.lag_messages.load(Ordering::Relaxed)
    }

    pub fn report(&self, known_sites: usize) -> StatusReport {
        StatusReport {
            accepted: self.accepted.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            lag_messages: self.lag_messages.load(Ordering::Relaxed),
            rejected_by_reason: self
                .rejected_by_reason
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default(),
            known_sites,
        }
    }
}

/// Registers the micro service and answers `status` until `shutdown`, then finishes the
/// requests in hand before it deregisters. The same report is each endpoint's `data` in
/// `$SRV.STATS.ingest`, so `nats micro stats ingest` shows the counters too.
pub async fn serve(
    client: async_nats::Client,
    report: impl Fn() -> StatusReport + Send + Sync + 'static,
    shutdown: CancellationToken,
) -> Result<(), async_nats::Error> {
    let report = Arc::new(report);
    let stats = report.clone();
    edgeops_bus::service::serve_with_stats(
        client,
        SERVICE_NAME,
        "Validates readings that reached the hub and writes them to Postgres",
        &["status"],
        move || stats_data(&stats()),
        shutdown,
        move |_endpoint, request| {
            let report = report.clone();
            async move { respond(&report(), request).await }
        },
    )
    .await
}

/// The report as the micro protocol's endpoint `data` (`null` only if it cannot be encoded).
fn stats_data(report: &StatusReport) -> serde_json::Value {
    serde_json::to_value(report).unwrap_or_else(|err| {
        tracing::warn!(error = %err, "encoding ingest's stats");
        serde_json::Value::Null
    })
}

async fn respond(report: &StatusReport, request: Request) {
    let reply = serde_json::to_vec(report).map_err(|e| async_nats::service::error::Error {
        status: e.to_string(),
        code: 500,
    });
    if let Err(err) = request.respond(reply.map(Into::into)).await {
        tracing::warn!(error = %err, "answering a status request failed");
    }
}
