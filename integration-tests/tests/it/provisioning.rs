//! Provisioning is declarative: twice is a no-op, a changed config is applied.

use std::time::Duration;

use edgeops_bus::provision;
use edgeops_bus::topology::{HubSettings, SiteSettings, hub_topology, site_topology};
use edgeops_contracts::{SiteId, streams};
use edgeops_integration_tests::TestStack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_twice_changes_nothing_and_a_changed_config_is_applied() {
    let stack = TestStack::start(&["s1"]).await;
    let js = stack.hub_js().await;
    let settings = HubSettings::default();

    let first = provision(&js, &hub_topology(&settings)).await.unwrap();
    assert!(
        first.created.contains(&"stream:READINGS".to_owned()),
        "{first:?}"
    );
    assert!(
        first
            .created
            .contains(&"consumer:READINGS/ingest".to_owned()),
        "{first:?}"
    );
    assert!(
        first.created.contains(&"kv:edgeops_sites".to_owned()),
        "{first:?}"
    );

    let second = provision(&js, &hub_topology(&settings)).await.unwrap();
    assert!(second.changed_nothing(), "second run changed {second:?}");
    assert_eq!(second.unchanged.len(), first.created.len());

    let changed = HubSettings {
        readings_max_age: Duration::from_secs(3 * 24 * 3600),
        duplicate_window: Duration::from_secs(30),
        ingest_ack_wait: Duration::from_secs(45),
        ..settings
    };
    let third = provision(&js, &hub_topology(&changed)).await.unwrap();
    // The duplicate window is shared by every hub stream; max age and ack wait by the two data paths.
    let expected: Vec<String> = [
        "stream:READINGS",
        "stream:AGGREGATES",
        "stream:DEAD_LETTERS",
        "stream:EVENTS",
        "consumer:READINGS/ingest",
        "consumer:READINGS/preprocessing",
        "consumer:AGGREGATES/ingest-aggregates",
    ]
    .map(String::from)
    .into();
    assert_eq!(third.updated, expected, "{third:?}");
    let mut readings = js.get_stream(streams::HUB_READINGS).await.unwrap();
    let config = &readings.info().await.unwrap().config;
    assert_eq!(config.max_age, Duration::from_secs(3 * 24 * 3600));
    assert_eq!(config.duplicate_window, Duration::from_secs(30));
    let consumer = readings.consumer_info("ingest").await.unwrap();
    assert_eq!(consumer.config.ack_wait, Duration::from_secs(45));

    assert!(
        provision(&js, &hub_topology(&changed))
            .await
            .unwrap()
            .changed_nothing()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_topology_is_provisioned_in_the_sites_own_domain() {
    let stack = TestStack::start(&["s1"]).await;
    let site = SiteId::parse("s1").unwrap();
    let local = async_nats::jetstream::with_domain(
        stack.leaf_client("s1").await,
        streams::edge_domain(&site),
    );
    let settings = SiteSettings {
        raw_max_age: Duration::from_secs(3600),
        raw_max_bytes: 64 * 1024 * 1024,
    };
    let first = provision(&local, &site_topology(&site, &settings))
        .await
        .unwrap();
    assert_eq!(
        first.created,
        vec![
            "stream:READINGS_LOCAL",
            "stream:REDUCED_LOCAL",
            "stream:SUMMARIES_LOCAL",
            "stream:DEAD_LETTERS_LOCAL",
            "kv:edgeops_gateway"
        ],
        "the raw stream, what the reduction lets through, the window summaries to send, the gateway's dead letters and its state"
    );
    assert!(
        provision(&local, &site_topology(&site, &settings))
            .await
            .unwrap()
            .changed_nothing()
    );

    // The raw stream lives at the site, not on the hub.
    let hub = stack.hub_js().await;
    assert!(
        hub.get_stream(streams::LOCAL_READINGS).await.is_err(),
        "raw readings must stay at the site"
    );
    assert!(
        hub.get_stream(streams::LOCAL_DEAD_LETTERS).await.is_err(),
        "the site's dead letters stay at the site"
    );
    let mut raw = local.get_stream(streams::LOCAL_READINGS).await.unwrap();
    assert_eq!(raw.info().await.unwrap().config.max_bytes, 64 * 1024 * 1024);
}
