//! `nats micro stats ingest` shows ingest's counters: the `$SRV.STATS` reply carries the same
//! report as `edgeops.svc.ingest.status` in its endpoint's `data` (docs/tilt.md says so).

use std::time::Duration;

use edgeops_integration_tests::services::spawn_ingest;
use edgeops_integration_tests::{TestStack, wait_until};

use crate::support::{hub_subject, reading_json, wait_for_rows};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn micro_stats_of_ingest_carry_its_counters() {
    let stack = TestStack::start(&[]).await;
    stack.register_sites(&["s1"]).await;
    let ingest = spawn_ingest(&stack);
    let js = stack.hub_js().await;
    let total: i64 = 25;
    for n in 0..total {
        js.publish(
            hub_subject("s1", &format!("d{}", n % 5)),
            reading_json(n).into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }
    let pool = stack.pool().await;
    wait_for_rows(&pool, total, Duration::from_secs(60)).await;

    // A raw request, as `nats micro stats ingest` sends it.
    let client = stack.hub_client().await;
    let stats = wait_until(
        "ingest's micro stats to count every reading",
        Duration::from_secs(30),
        || {
            let client = client.clone();
            async move {
                let reply = client
                    .request("$SRV.STATS.ingest", "".into())
                    .await
                    .map_err(|e| e.to_string())?;
                let stats: serde_json::Value =
                    serde_json::from_slice(&reply.payload).map_err(|e| e.to_string())?;
                let accepted = stats["endpoints"][0]["data"]["accepted"].as_u64();
                if accepted == Some(total as u64) {
                    Ok(Some(stats))
                } else {
                    Err(stats.to_string())
                }
            }
        },
    )
    .await;
    assert_eq!(stats["type"], "io.nats.micro.v1.stats_response");
    assert_eq!(stats["name"], "ingest");
    let endpoint = &stats["endpoints"][0];
    assert_eq!(endpoint["subject"], "edgeops.svc.ingest.status");
    assert_eq!(endpoint["data"]["rejected"], 0, "{stats}");
    assert_eq!(endpoint["data"]["known_sites"], 1, "{stats}");
    ingest.shutdown().await;
}
