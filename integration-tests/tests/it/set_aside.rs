//! What the gateway must not forward, or the hub will never store, is set aside as a dead letter
//! at the site and at the hub, and forwarding goes on: one message never stops a site.

use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream;
use edgeops_contracts::{RejectCode, streams};
use edgeops_integration_tests::TestStack;
use edgeops_integration_tests::services::{spawn_gateway, spawn_ingest};

use crate::support::{
    count_rows, raw_subject, reading_json, stream_messages, wait_for_dead_letters,
    wait_for_local_stream, wait_for_rows,
};

/// Letters and digits no compressor finds a pattern in (xorshift).
fn noise(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ALPHABET[(state % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

fn site_js(client: &async_nats::Client, site: &str) -> jetstream::Context {
    jetstream::with_domain(client.clone(), format!("edge-{site}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_oversized_message_among_ten_thousand_is_set_aside_and_forwarding_goes_on() {
    let stack = TestStack::start(&["s1"]).await;
    stack.register_sites(&["s1"]).await;
    let ingest = spawn_ingest(&stack);
    let (gateway, stats) = spawn_gateway(&stack, "s1");
    let sensor = stack.leaf_client("s1").await;
    wait_for_local_stream(&sensor, "s1").await;

    // The size a user's client sent: it fits the leaf's 1 MiB max_payload, but not with the
    // gateway's headers added, and it is no reading.
    let oversized = vec![b'x'; 1_048_566];
    let devices = ["d1", "d2", "d3", "d4"];
    for n in 0..2_500 {
        if n == 1_250 {
            sensor
                .publish("edgeops.raw.s1.d1", oversized.clone().into())
                .await
                .unwrap();
        }
        for device in devices {
            let subject = raw_subject("s1", device);
            sensor
                .publish(subject, reading_json(n).into())
                .await
                .unwrap();
        }
    }
    sensor.flush().await.unwrap();

    let pool = stack.pool().await;
    wait_for_rows(&pool, 10_000, Duration::from_secs(120)).await;

    let at_site =
        wait_for_dead_letters(&site_js(&sensor, "s1"), streams::LOCAL_DEAD_LETTERS, 1).await;
    let at_hub = wait_for_dead_letters(&stack.hub_js().await, streams::DEAD_LETTERS, 1).await;
    for (subject, letter) in [&at_site[0], &at_hub[0]] {
        assert!(subject.ends_with(".payload_too_large"), "{subject}");
        assert_eq!(letter.reason.code, RejectCode::PayloadTooLarge);
        assert_eq!(letter.site.as_deref(), Some("s1"));
        assert_eq!(letter.subject, "edgeops.raw.s1.d1");
        assert_eq!(letter.stream, streams::LOCAL_READINGS);
        // 1,250 rounds of four readings came before it in the local stream.
        assert_eq!(letter.stream_sequence, 5_001);
        assert_eq!(letter.truncated_from_bytes, Some(oversized.len()));
    }
    assert_eq!(at_site[0].0, "edgeops.local.dlq.s1.payload_too_large");
    assert_eq!(at_hub[0].0, "edgeops.dlq.gateway-s1.payload_too_large");
    assert_eq!(stats.set_aside.load(Ordering::Relaxed), 1);
    assert_eq!(stats.forwarded_readings.load(Ordering::Relaxed), 10_000);

    gateway.shutdown().await;
    ingest.shutdown().await;
    assert_eq!(
        count_rows(&pool).await.unwrap(),
        10_000,
        "each reading exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_hub_refuses_for_good_is_set_aside_and_the_rest_arrive() {
    let stack = TestStack::start(&["s1"]).await;
    stack.register_sites(&["s1"]).await;
    // The hub's stream takes no message over 2,000 bytes (JetStream error 10054). No ingest
    // runs: it would provision the stream back to its defaults.
    let hub = stack.hub_js().await;
    let mut config = hub
        .get_stream(streams::HUB_READINGS)
        .await
        .unwrap()
        .cached_info()
        .config
        .clone();
    config.max_message_size = 2_000;
    hub.update_stream(config).await.unwrap();
    let (gateway, stats) = spawn_gateway(&stack, "s1");
    let sensor = stack.leaf_client("s1").await;
    wait_for_local_stream(&sensor, "s1").await;

    // Not a valid reading, so it travels alone for ingest to judge: 3,000 bytes of noise, which
    // no compression brings under the stream's limit.
    let too_big_for_the_stream = format!(r#"{{"ts":"bad","pad":"{}"}}"#, noise(3_000));
    for n in 0..20 {
        if n == 10 {
            sensor
                .publish("edgeops.raw.s1.d2", too_big_for_the_stream.clone().into())
                .await
                .unwrap();
        }
        for device in ["d1", "d2"] {
            let subject = raw_subject("s1", device);
            sensor
                .publish(subject, reading_json(n).into())
                .await
                .unwrap();
        }
    }
    sensor.flush().await.unwrap();

    let at_hub = wait_for_dead_letters(&hub, streams::DEAD_LETTERS, 1).await;
    let at_site =
        wait_for_dead_letters(&site_js(&sensor, "s1"), streams::LOCAL_DEAD_LETTERS, 1).await;
    for (subject, letter) in [&at_hub[0], &at_site[0]] {
        assert!(subject.ends_with(".refused_by_hub"), "{subject}");
        assert_eq!(letter.reason.code, RejectCode::RefusedByHub);
        assert!(
            letter.reason.detail.contains("10054"),
            "{}",
            letter.reason.detail
        );
        assert_eq!(letter.stream_sequence, 21, "named by its local sequence");
        assert_eq!(
            letter.payload().unwrap(),
            too_big_for_the_stream.as_bytes(),
            "the refused message, whole"
        );
    }
    // Every good reading reached the hub after it.
    edgeops_integration_tests::wait_until(
        "40 readings on the hub",
        Duration::from_secs(60),
        || async {
            let forwarded = stats.forwarded_readings.load(Ordering::Relaxed);
            edgeops_integration_tests::check(forwarded >= 40, format!("{forwarded} forwarded"))
        },
    )
    .await;
    let now = chrono::Utc::now();
    let on_hub: usize = stack
        .hub_messages(streams::HUB_READINGS)
        .await
        .iter()
        .map(|(subject, payload)| {
            edgeops_contracts::Reading::all_from_message(subject, payload, now, &Default::default())
                .into_iter()
                .filter(Result::is_ok)
                .count()
        })
        .sum();
    assert_eq!(on_hub, 40);
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_sites_reading_and_an_array_are_refused_at_the_site_with_reasons() {
    let stack = TestStack::start(&["s1", "s2"]).await;
    stack.register_sites(&["s1", "s2"]).await;
    let ingest = spawn_ingest(&stack);
    let (gateway_s1, _) = spawn_gateway(&stack, "s1");
    let (gateway_s2, _) = spawn_gateway(&stack, "s2");
    let sensor = stack.leaf_client("s1").await;
    let s2 = stack.leaf_client("s2").await;
    wait_for_local_stream(&sensor, "s1").await;
    wait_for_local_stream(&s2, "s2").await;
    stack.wait_for_uplink("s1").await;
    stack.wait_for_uplink("s2").await;

    // A sensor at s1 that names s2, one that sends two readings as one JSON array, one good.
    // (A core publish has no answer to give such a sender: the dead letters are where it shows.)
    sensor
        .publish("edgeops.raw.s2.intruder", reading_json(1).into())
        .await
        .unwrap();
    let array = format!("[{},{}]", reading_json(2), reading_json(3));
    sensor
        .publish("edgeops.raw.s1.batcher", array.clone().into())
        .await
        .unwrap();
    sensor
        .publish("edgeops.raw.s1.good", reading_json(4).into())
        .await
        .unwrap();
    sensor.flush().await.unwrap();

    // And an MQTT sensor at s1 (a real client, QoS 1) on s2's topic.
    let port = stack.leaf("s1").mqtt_port.to_string();
    let mqtt = reading_json(5);
    let status = std::process::Command::new("mosquitto_pub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-q",
            "1",
            "-i",
            "stray-sensor",
        ])
        .args(["-t", "edgeops/raw/s2/mqtt-intruder", "-m", &mqtt])
        .status()
        .unwrap_or_else(|e| panic!("mosquitto_pub (installed by bootstrap) could not run: {e}"));
    assert!(status.success(), "mosquitto_pub failed: {status}");

    let site_letters = site_js(&sensor, "s1");
    let at_site = wait_for_dead_letters(&site_letters, streams::LOCAL_DEAD_LETTERS, 3).await;
    let at_hub = wait_for_dead_letters(&stack.hub_js().await, streams::DEAD_LETTERS, 3).await;
    for letters in [&at_site, &at_hub] {
        let reasons: Vec<(RejectCode, &str)> = letters
            .iter()
            .map(|(_, l)| (l.reason.code, l.subject.as_str()))
            .collect();
        assert_eq!(
            reasons,
            vec![
                (RejectCode::ForeignSite, "edgeops.raw.s2.intruder"),
                (RejectCode::NotAnObject, "edgeops.raw.s1.batcher"),
                (RejectCode::ForeignSite, "edgeops.raw.s2.mqtt-intruder"),
            ]
        );
        assert_eq!(letters[1].1.payload().unwrap(), array.as_bytes());
        assert_eq!(letters[2].1.payload().unwrap(), mqtt.as_bytes());
    }
    let pool = stack.pool().await;
    wait_for_rows(&pool, 1, Duration::from_secs(60)).await;
    // s2 never saw the reading that named it: raw subjects do not cross the leaf link.
    let s2_local = stream_messages(&site_js(&s2, "s2"), streams::LOCAL_READINGS).await;
    assert!(s2_local.is_empty(), "{s2_local:?}");

    gateway_s1.shutdown().await;
    gateway_s2.shutdown().await;
    ingest.shutdown().await;
    assert_eq!(count_rows(&pool).await.unwrap(), 1, "only the good reading");
}
