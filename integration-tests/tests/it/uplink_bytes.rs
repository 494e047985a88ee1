//! The byte ratio, measured as docs/architecture.md defines it: every byte the site sends to the
//! hub over the leaf connection (readings, aggregates, forecasts, API requests, all of it), from
//! the leaf nats-server's own `/leafz` counters, over the bytes of the raw readings published at
//! the site. The ceiling is 10% for the shipped data sets under the default policy.

use std::sync::atomic::Ordering;
use std::time::Duration;

use edgeops_cli::leaf_link::leaf_link_bytes;
use edgeops_cli::replay::{Dataset, Replay};
use edgeops_edge_gateway::GatewayConfig;
use edgeops_integration_tests::services::spawn_gateway_observed;
use edgeops_integration_tests::{TestStack, check, wait_until};

use crate::support::wait_for_local_stream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_beijing_data_set_costs_at_most_a_tenth_of_its_bytes_on_the_leaf_link_forecasts_included()
 {
    let stack = TestStack::start(&["beijing"]).await;
    stack.register_sites(&["beijing"]).await;
    let leaf = stack.leaf("beijing");
    // The gateway as shipped (default policy, inference on, forecasts sent to the hub), with the
    // data set's own feature spec so that it forecasts PM2.5 for every hour.
    let mut config = GatewayConfig::local(leaf.site.clone(), leaf.url.clone());
    config.policy = "default".into();
    config.feature_spec = "outdoor_pm25".into();
    let (gateway, stats, inference) = spawn_gateway_observed(config);
    let sensor = stack.leaf_client("beijing").await;
    wait_for_local_stream(&sensor, "beijing").await;
    wait_until("forecasting live", Duration::from_secs(30), || async {
        check(inference.feeding.load(Ordering::Relaxed), "not yet")
    })
    .await;

    let replay = Replay::embedded(Dataset::Beijing, leaf.site.clone()).unwrap();
    let js = async_nats::jetstream::with_domain(sensor.clone(), "edge-beijing");
    let (mut published, mut raw_bytes) = (0u64, 0u64);
    for chunk in replay.readings().collect::<Vec<_>>().chunks(1_000) {
        let mut acks = Vec::with_capacity(chunk.len());
        for (subject, payload) in chunk {
            raw_bytes += payload.len() as u64;
            acks.push(
                js.publish(subject.clone(), payload.clone().into())
                    .await
                    .unwrap(),
            );
        }
        for ack in acks {
            ack.await.unwrap();
        }
        published += chunk.len() as u64;
    }
    // Each hour with a PM2.5 value is one feature bin: one forecast of it reaches the hub.
    let bins = replay
        .samples()
        .iter()
        .filter(|s| s.metrics.iter().any(|(key, _)| *key == "pm25_ugm3"))
        .count() as u64;

    wait_until(
        "every reading forwarded",
        Duration::from_secs(300),
        || async {
            let raw = stats.raw.load(Ordering::Relaxed);
            check(raw == published, format!("{raw} of {published} read"))
        },
    )
    .await;
    wait_until(
        "one forecast per bin on the hub",
        Duration::from_secs(120),
        || async {
            let sent = inference.forwarded.load(Ordering::Relaxed);
            let dropped = inference.forward_dropped.load(Ordering::Relaxed);
            assert_eq!(dropped, 0, "the link was up: no forecast dropped");
            assert!(sent <= bins, "{sent} forecasts for {bins} bins");
            check(sent == bins, format!("{sent} of {bins}"))
        },
    )
    .await;
    assert_eq!(stats.raw_bytes.load(Ordering::Relaxed), raw_bytes);

    let link = leaf_link_bytes(&leaf.monitor_url).await.unwrap();
    let ratio = link.ratio_to(raw_bytes);
    println!(
        "beijing: {published} readings, {raw_bytes} raw bytes; leaf link to hub {} bytes in {} messages ({:.2}%), from hub {} bytes; {bins} forecasts sent",
        link.to_hub,
        link.to_hub_msgs,
        ratio * 100.0,
        link.from_hub
    );
    assert!(
        link.to_hub > stats.forwarded_bytes.load(Ordering::Relaxed),
        "the link carries at least what the forwarder sent, and the forecasts besides"
    );
    assert!(
        ratio <= 0.10,
        "{:.2}% of the raw bytes crossed the leaf link",
        ratio * 100.0
    );
    gateway.shutdown().await;
}
