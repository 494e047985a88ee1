//! OTLP export is switched on by the standard `OTEL_*` variables: a real exporter in the ingest
//! process sends its spans and metrics, by their documented names, to an OTLP/HTTP receiver.

use std::process::Stdio;
use std::time::Duration;

use edgeops_integration_tests::otlp::start_receiver;
use edgeops_integration_tests::{TestStack, check, wait_until};
use edgeops_telemetry::names;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::ingest_process::ingest_binary;
use crate::support::{reading_json, wait_for_rows};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_exports_its_spans_and_metrics_over_otlp_when_asked() {
    let (otlp_url, received) = start_receiver().await;
    let stack = TestStack::start(&[]).await;
    stack.register_sites(&["s1"]).await;
    let js = stack.hub_js().await;
    for n in 0..50 {
        js.publish("edgeops.readings.s1.d1", reading_json(n).into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let mut child = tokio::process::Command::new(ingest_binary())
        .env("EDGEOPS_NATS_URL", &stack.hub_url)
        .env("EDGEOPS_DATABASE_URL", &stack.database_url)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &otlp_url)
        .env("OTEL_BSP_SCHEDULE_DELAY", "200")
        .env("OTEL_METRIC_EXPORT_INTERVAL", "500")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_for_rows(&stack.pool().await, 50, Duration::from_secs(30)).await;

    wait_until(
        "the batch span and the accepted-readings metric at the receiver",
        Duration::from_secs(20),
        || async {
            let spans = received.contains("/v1/traces", names::INGEST_BATCH_SPAN);
            let metrics = received.contains("/v1/metrics", names::INGEST_READINGS_ACCEPTED);
            check(
                spans && metrics,
                format!(
                    "spans: {spans}, metrics: {metrics}, posts: {:?}",
                    received.paths()
                ),
            )
        },
    )
    .await;
    assert!(
        received.contains("/v1/traces", "edgeops-ingest"),
        "the service name is in the resource"
    );

    kill(Pid::from_raw(child.id().unwrap() as i32), Signal::SIGTERM).unwrap();
    assert!(child.wait().await.unwrap().success());
}
