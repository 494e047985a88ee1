//! Outages of the leaf link: cut several times at random moments, once for longer than the
//! duplicate window. Afterwards the hub and Postgres hold exactly what the policy selected:
//! nothing lost, nothing duplicated, per-device order kept.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use edgeops_contracts::{Reading, ReadingLimits, streams};
use edgeops_edge_gateway::GatewayConfig;
use edgeops_edge_gateway::reduction::ReductionPolicy;
use edgeops_ingest::IngestConfig;
use edgeops_integration_tests::TestStack;
use edgeops_integration_tests::services::{spawn_gateway_with_config, spawn_ingest_with};
use edgeops_testkit::simulator::Room;

use crate::support::{
    Rows, base_time, raw_subject, selected_by_policy, stored_rows, wait_for_local_stream,
    wait_for_rows_and_aggregates,
};

const SITES: [&str; 2] = ["s1", "s2"];
const ROOMS: usize = 10;
const PER_ROOM: i64 = 5_000;
const DUPLICATE_WINDOW_SECS: u64 = 2;

/// A small deterministic generator, so a failing run can be replayed from its printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn between(&mut self, low_ms: u64, high_ms: u64) -> Duration {
        Duration::from_millis(low_ms + self.next() % (high_ms - low_ms))
    }
}

fn site_readings(site: &str) -> Vec<(String, String)> {
    let mut rooms: Vec<Room> = (0..ROOMS)
        .map(|i| Room::new(format!("room-{i}"), i as u64 + 7))
        .collect();
    let mut out = Vec::with_capacity(ROOMS * PER_ROOM as usize);
    for minute in 0..PER_ROOM {
        let at = base_time() + chrono::Duration::minutes(minute);
        for (i, room) in rooms.iter_mut().enumerate() {
            out.push((raw_subject(site, &format!("room-{i}")), room.step(at, 60.0)));
        }
    }
    out
}

/// Publishes at the site with JetStream acknowledgements, paced over about `spread`.
async fn publish_paced(
    leaf_url: String,
    site: String,
    readings: Vec<(String, String)>,
    spread: Duration,
) {
    let client = edgeops_bus::connect(&leaf_url, "test-sensors")
        .await
        .unwrap();
    let js = async_nats::jetstream::with_domain(client, format!("edge-{site}"));
    let chunks = readings.chunks(1000).count() as u32;
    for chunk in readings.chunks(1000) {
        let mut acks = Vec::with_capacity(chunk.len());
        for (subject, payload) in chunk {
            acks.push(
                js.publish(subject.clone(), payload.clone().into())
                    .await
                    .unwrap(),
            );
        }
        for ack in acks {
            ack.await.unwrap();
        }
        tokio::time::sleep(spread / chunks).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cuts_of_the_leaf_link_lose_nothing_and_duplicate_nothing() {
    let seed = std::env::var("OUTAGE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64 | 1);
    eprintln!("outage schedule seed: {seed} (rerun with OUTAGE_SEED={seed})");
    let mut rng = Rng(seed);

    let stack = TestStack::start(&SITES).await;
    stack.register_sites(&SITES).await;
    let mut config = IngestConfig::local(stack.hub_url.clone(), stack.database_url.clone());
    config.duplicate_window_secs = DUPLICATE_WINDOW_SECS;
    let ingest = spawn_ingest_with(config);
    let policy = ReductionPolicy::fleet_default();
    let mut gateways = Vec::new();
    let mut gateway_stats = BTreeMap::new();
    for site in SITES {
        let leaf = stack.leaf(site);
        let mut gateway_config = GatewayConfig::local(leaf.site.clone(), leaf.url.clone());
        gateway_config.policy = "default".into();
        // A stalled link fails a batch after 1 s instead of being ridden out by TCP.
        gateway_config.hub_ack_timeout_ms = 1_000;
        let (gateway, stats) = spawn_gateway_with_config(gateway_config);
        gateways.push(gateway);
        gateway_stats.insert(site, stats);
        wait_for_local_stream(&stack.leaf_client(site).await, site).await;
    }

    // What the policy selects at each site, from the same readings in the same local order.
    let mut expected = Rows::new();
    let mut expected_aggregates = 0usize;
    let mut publishers = Vec::new();
    for site in SITES {
        let raw = site_readings(site);
        let (readings, aggregates) = selected_by_policy(&policy, site, &raw);
        expected.extend(readings);
        expected_aggregates += aggregates;
        publishers.push(tokio::spawn(publish_paced(
            stack.leaf(site).url.clone(),
            site.to_owned(),
            raw,
            Duration::from_secs(32),
        )));
    }

    // Four cuts at random moments while readings flow (publishing spans the longest schedule,
    // 4 x (2.5 s + 5 s)); one outlasts the duplicate window.
    let started = Instant::now();
    let long_cut = (rng.next() % 4) as usize;
    let mut cut_sites = std::collections::BTreeSet::new();
    for cut in 0..4 {
        tokio::time::sleep(rng.between(500, 2_500)).await;
        let site = SITES[(rng.next() % 2) as usize];
        let length = if cut == long_cut {
            Duration::from_secs(2 * DUPLICATE_WINDOW_SECS + 1)
        } else {
            rng.between(1_500, 3_000)
        };
        eprintln!(
            "cut {cut}: {site} at {:?} for {length:?}",
            started.elapsed()
        );
        stack.cut_uplink(site);
        cut_sites.insert(site);
        tokio::time::sleep(length).await;
        stack.restore_uplink(site);
    }
    for publisher in publishers {
        publisher.await.unwrap();
    }

    let pool = stack.pool().await;
    wait_for_rows_and_aggregates(
        &pool,
        expected.len(),
        expected_aggregates,
        Duration::from_secs(180),
    )
    .await;
    for gateway in gateways {
        gateway.shutdown().await;
    }
    for site in &cut_sites {
        let failed = gateway_stats[site]
            .failed_batches
            .load(std::sync::atomic::Ordering::Relaxed);
        let skipped = gateway_stats[site]
            .resend_skipped
            .load(std::sync::atomic::Ordering::Relaxed);
        eprintln!(
            "{site}: {failed} forward attempts failed during cuts; {skipped} messages found already on the hub and not resent"
        );
        assert!(
            failed > 0,
            "the cuts of {site} must have interrupted forwarding, or this test proves nothing"
        );
    }
    ingest.shutdown().await;

    let stored = stored_rows(&pool).await;
    assert!(
        stored == expected,
        "Postgres differs from what the policy selected"
    );

    // The hub stream holds each selected reading exactly once, in per-device order (packed:
    // a message carries several readings of its device).
    let messages = stack.hub_messages(streams::HUB_READINGS).await;
    let readings: Vec<(String, Reading)> = messages
        .iter()
        .flat_map(|(subject, payload)| {
            Reading::all_from_message(subject, payload, Utc::now(), &ReadingLimits::default())
                .into_iter()
                .map(|verdict| (subject.clone(), verdict.unwrap()))
        })
        .collect();
    assert_eq!(
        readings.len(),
        expected.len(),
        "no reading lost or stored twice on the hub"
    );
    assert!(
        messages.len() < readings.len(),
        "the gateway packs readings: {} messages for {} readings",
        messages.len(),
        readings.len()
    );
    let mut last_ts: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    for (subject, reading) in &readings {
        if let Some(previous) = last_ts.insert(subject.clone(), reading.ts) {
            assert!(
                reading.ts > previous,
                "{subject}: {} after {previous}",
                reading.ts
            );
        }
    }
    let aggregate_messages = stack.hub_messages_with_ids(streams::HUB_AGGREGATES).await;
    let mut copies: BTreeMap<(String, String, DateTime<Utc>), Vec<String>> = BTreeMap::new();
    for (subject, payload, id) in &aggregate_messages {
        let (_, _, aggregates) =
            edgeops_contracts::aggregate::parse_aggregates(subject, payload).unwrap();
        for aggregate in aggregates {
            copies
                .entry((subject.clone(), aggregate.metric, aggregate.window_start))
                .or_default()
                .push(id.clone());
        }
    }
    let doubled: Vec<_> = copies.iter().filter(|(_, ids)| ids.len() > 1).collect();
    let hub_aggregates: usize = copies.values().map(Vec::len).sum();
    assert_eq!(
        hub_aggregates, expected_aggregates,
        "each aggregate exactly once on the hub; stored more than once (key: message ids): {doubled:#?}"
    );
    eprintln!(
        "{} raw readings -> {} selected, {expected_aggregates} aggregates",
        SITES.len() * ROOMS * PER_ROOM as usize,
        expected.len()
    );
}
