//! One place that sets up logging, tracing and metrics for every edgeops binary.
//!
//! - Logs: `tracing` to stderr; `RUST_LOG` filters (default [`SERVICE_DEFAULT_FILTER`]: our own
//!   crates at `info`, dependencies at `warn`; the CLI uses [`CLI_DEFAULT_FILTER`]),
//!   `EDGEOPS_LOG_FORMAT=json` switches to one JSON object per line for log shippers.
//! - Traces and metrics: exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the
//!   per-signal variants) is set and `OTEL_SDK_DISABLED` is not `true`; the exporters read the
//!   standard `OTEL_*` variables themselves.
//! - Trace context: W3C `traceparent`/`tracestate` carried in NATS headers (`propagation`).

pub mod lifecycle;
pub mod names;
pub mod propagation;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{MetricExporter, SpanExporter};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("building the OTLP exporter: {0}")]
    Exporter(String),
    #[error("invalid RUST_LOG filter: {0}")]
    Filter(String),
}

/// Flushes and shuts down the OTLP pipelines when dropped; keep it alive for the process.
#[must_use = "dropping the guard shuts telemetry down"]
pub struct TelemetryGuard {
    tracer_provider: Option<SdkTracerProvider>,
    meter_provider: Option<SdkMeterProvider>,
}

impl TelemetryGuard {
    /// Whether spans and metrics leave the process (for startup logs and tests).
    pub fn exporting(&self) -> bool {
        self.tracer_provider.is_some()
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.tracer_provider.take() {
            let _ = provider.force_flush();
            let _ = provider.shutdown();
        }
        if let Some(provider) = self.meter_provider.take() {
            let _ = provider.force_flush();
            let _ = provider.shutdown();
        }
    }
}

/// Whether the environment asks for OTLP export.
pub fn otlp_requested() -> bool {
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    let endpoint = [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()));
    endpoint && !disabled
}

/// The filter of a service when `RUST_LOG` is unset: every edgeops crate (their targets all
/// start with `edgeops`) at `info`, dependencies at `warn`. async-nats logs each connection
/// event at `info`, which `edgeops_bus::connect` already logs once with the connection's name.
pub const SERVICE_DEFAULT_FILTER: &str = "warn,edgeops=info";

/// The operator command's filter when `RUST_LOG` is unset: what it has to say it prints, so
/// logs are only for what went wrong (no connection chatter around a command's answer).
pub const CLI_DEFAULT_FILTER: &str = "warn";

/// Installs the subscriber for `service` (e.g. `ingest`). Safe to call more than once per
/// process (tests do): later calls keep the first subscriber and return a guard that does nothing.
pub fn init(service: &str) -> Result<TelemetryGuard, TelemetryError> {
    init_with_default_filter(service, SERVICE_DEFAULT_FILTER)
}

/// As [`init`], with the filter used when `RUST_LOG` is unset (the CLI's is
/// [`CLI_DEFAULT_FILTER`]).
pub fn init_with_default_filter(
    service: &str,
    default_filter: &str,
) -> Result<TelemetryGuard, TelemetryError> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(default_filter))
        .map_err(|e| TelemetryError::Filter(e.to_string()))?;
    let json = std::env::var("EDGEOPS_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let fmt_layer = if json {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed()
    };

    let (tracer_provider, meter_provider) = if otlp_requested() {
        let (t, m) = otlp_providers(service)?;
        (Some(t), Some(m))
    } else {
        (None, None)
    };
    let otel_layer = tracer_provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer().with_tracer(provider.tracer(format!("edgeops.{service}")))
    });
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(fmt_layer)
        .with(otel_layer)
        .try_init()
        .is_ok();
    if !installed {
        return Ok(TelemetryGuard {
            tracer_provider: None,
            meter_provider: None,
        });
    }
    if let Some(provider) = &meter_provider {
        opentelemetry::global::set_meter_provider(provider.clone());
    }
    Ok(TelemetryGuard {
        tracer_provider,
        meter_provider,
    })
}

fn otlp_providers(service: &str) -> Result<(SdkTracerProvider, SdkMeterProvider), TelemetryError> {
    let resource = Resource::builder()
        .with_service_name(format!("edgeops-{service}"))
        .build();
    let spans = SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
    let metrics = MetricExporter::builder()
        .with_http()
        .build()
        .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
    let tracer_provider = SdkTracerProvider::builder()
        .with_resource(resource.clone())
        .with_batch_exporter(spans)
        .build();
    let meter_provider = SdkMeterProvider::builder()
        .with_resource(resource)
        .with_periodic_exporter(metrics)
        .build();
    Ok((tracer_provider, meter_provider))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Log output kept in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What a process logging as our services and their dependencies do shows under `filter`.
    fn shown_under(filter: &str) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::try_new(filter).unwrap())
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(move || writer.clone()),
            );
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "async_nats", "event: connected");
            tracing::info!(target: "sqlx::postgres::notice", "relation exists, skipping");
            tracing::warn!(target: "async_nats", "event: disconnected");
            tracing::info!(target: "edgeops_bus::connect", "nats connected");
            tracing::info!(target: "edgeops_ingest::startup", "ingest running");
        });
        let bytes = captured.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn services_log_their_own_info_and_only_warnings_of_dependencies() {
        let shown = shown_under(SERVICE_DEFAULT_FILTER);
        assert!(shown.contains("ingest running"), "{shown}");
        assert!(shown.contains("nats connected"), "{shown}");
        assert!(shown.contains("event: disconnected"), "{shown}");
        assert!(!shown.contains("event: connected"), "{shown}");
        assert!(!shown.contains("skipping"), "{shown}");
    }

    #[test]
    fn the_cli_is_quiet_unless_something_went_wrong() {
        let shown = shown_under(CLI_DEFAULT_FILTER);
        assert!(shown.contains("event: disconnected"), "{shown}");
        assert!(!shown.contains("event: connected"), "{shown}");
        assert!(!shown.contains("nats connected"), "{shown}");
        assert!(!shown.contains("ingest running"), "{shown}");
    }
}
