//! (a) A rollout across three sites and 108 simulated rooms: canary, then waves, then complete,
//! every device serving the new version, within 10 s of the start with 1-second gate windows.
//! And a site with silent rooms: the rollout targets the live ones only (canary included) and
//! names the silent ones; a selection of silent devices is refused, naming them.

use std::time::{Duration, Instant};

use edgeops_contracts::Actor;
use edgeops_deployment_api::DeploymentClient;
use edgeops_deployment_api::{GateSettings, Selector, Status, Strategy};
use edgeops_deployment_api::{ListRequest, StartRequest, WaveState, codes};
use edgeops_integration_tests::services::{spawn_deployment, spawn_ingest, spawn_registry};
use edgeops_integration_tests::{TestStack, check, wait_until};
use edgeops_registry_api::RegistryClient;

use super::fixtures::*;
use crate::support::{wait_for_local_stream, wait_for_rows};

const SITES: [&str; 3] = ["s1", "s2", "s3"];
const ROOMS_PER_SITE: usize = 36;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_rollout_across_three_sites_goes_canary_waves_complete_within_10s() {
    let stack = TestStack::start(&SITES).await;
    stack.register_sites(&SITES).await;
    let cache = tempfile::tempdir().unwrap();
    let ingest = spawn_ingest(&stack);
    let registry = spawn_registry(&stack);
    let deployment = spawn_deployment(&stack);
    let gateways: Vec<_> = SITES
        .iter()
        .map(|site| spawn_inference_gateway(&stack, site, cache.path()))
        .collect();

    // Every room reports once, so the hub knows the fleet.
    let rooms: Vec<usize> = (0..ROOMS_PER_SITE).collect();
    for site in SITES {
        let leaf = stack.leaf_client(site).await;
        wait_for_local_stream(&leaf, site).await;
        publish_round(&leaf, site, &rooms, 0).await;
    }
    let devices = SITES.len() * ROOMS_PER_SITE;
    let pool = stack.pool().await;
    wait_for_rows(&pool, devices as i64, Duration::from_secs(60)).await;
    let hub = stack.hub_client().await;
    let registry_client = RegistryClient::new(hub.clone());
    register_model(&stack, &registry_client, 0.0, 1).await;

    let client = DeploymentClient::new(hub);
    let request = StartRequest {
        model: MODEL.into(),
        version: 1,
        selector: Selector {
            sites: SITES.iter().map(|s| (*s).to_owned()).collect(),
            ..Selector::default()
        },
        strategy: Some(Strategy {
            canary_share: 0.1,
            waves: vec![0.5, 1.0],
        }),
        gates: Some(GateSettings {
            window_secs: 1,
            min_forecasts: 0,
            max_error_ratio: 1.2,
            max_failed_devices: 0,
            apply_timeout_secs: 30,
        }),
        actor: "ana".into(),
    };
    let started = Instant::now();
    let reply = client.start(&request).await.unwrap();
    assert_eq!(reply.targets, devices);
    assert_eq!(
        reply.waves,
        [11, 43, 54],
        "10 % canary, then up to 50 %, then all"
    );
    let done = status_when(
        &client,
        reply.rollout,
        "every device serving v1, the rollout completed",
        Duration::from_secs(30),
        |s| {
            s.status == Status::Completed
                && s.waves.iter().map(|w| w.applied).sum::<usize>() == devices
        },
    )
    .await;
    let took = started.elapsed();
    let t0 = done.started_at.unwrap();
    for h in &done.history {
        let at = (h.at - t0).num_milliseconds();
        eprintln!("  +{at:>5} ms  {}  {}", h.event_type, h.detail);
    }
    eprintln!(
        "rollout of {devices} devices over {} sites: start to 100% serving in {took:.2?}",
        SITES.len()
    );
    assert!(took <= Duration::from_secs(10), "took {took:?}");

    // Canary, then each wave, each gate passed, in that order, by the right actors.
    let kinds: Vec<(&str, &Actor)> = done
        .history
        .iter()
        .map(|h| (h.event_type.as_str(), &h.actor))
        .collect();
    let service = Actor::Service("deployment".into());
    let ana = Actor::User("ana".into());
    assert_eq!(
        kinds,
        [
            ("rollout.started", &ana),
            ("rollout.wave_advanced", &ana),
            ("rollout.gate_passed", &service),
            ("rollout.wave_advanced", &service),
            ("rollout.gate_passed", &service),
            ("rollout.wave_advanced", &service),
            ("rollout.gate_passed", &service),
            ("rollout.completed", &service),
        ]
    );
    assert!(
        done.waves
            .iter()
            .all(|w| w.state == WaveState::Passed && w.failed == 0)
    );

    // The bucket holds v1 of this rollout for every device, and every gateway said so.
    for site in SITES {
        for i in &rooms {
            let held = desired(&stack, site, &room(*i)).await.unwrap();
            assert_eq!((held.version, held.rollout), (1, Some(reply.rollout)));
        }
    }
    let applied = device_reports(&stack)
        .await
        .into_iter()
        .filter(|e| e.meta.event_type == "edge.model_applied" && e.data["version"] == 1)
        .count();
    assert_eq!(applied, devices, "one report per device");

    // The projection lists it completed.
    wait_until("the list to show it", Duration::from_secs(20), || async {
        let listed = client
            .list(&ListRequest::default())
            .await
            .map_err(|e| e.to_string())?;
        let row = listed.iter().find(|r| r.rollout == reply.rollout);
        check(
            row.is_some_and(|r| {
                r.status == Status::Completed && r.applied as usize == devices && r.waves == 3
            }),
            format!("{row:?}"),
        )
    })
    .await;

    for gateway in gateways {
        gateway.shutdown().await;
    }
    deployment.shutdown().await;
    registry.shutdown().await;
    ingest.shutdown().await;
}

/// Rooms 0–2 of s1 were last heard two hours ago (their newest reading is the freshest by sensor
/// time, so only arrival at the hub tells them apart); rooms 3–5 report now. s2 has only
/// silent rooms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_rollout_by_site_targets_live_devices_and_names_the_silent_ones() {
    let stack = TestStack::start(&["s1"]).await;
    stack.register_sites(&["s1", "s2"]).await;
    let cache = tempfile::tempdir().unwrap();
    let ingest = spawn_ingest(&stack);
    let registry = spawn_registry(&stack);
    let deployment = spawn_deployment(&stack);
    let gateway = spawn_inference_gateway(&stack, "s1", cache.path());

    let pool = stack.pool().await;
    let two_hours = Duration::from_secs(2 * 3_600);
    let silent = ["s1:room-000", "s1:room-001", "s1:room-002"];
    heard(&pool, &silent, two_hours).await;
    heard(&pool, &["s2:room-000", "s2:room-001"], two_hours).await;
    let leaf = stack.leaf_client("s1").await;
    wait_for_local_stream(&leaf, "s1").await;
    let live_rooms = [3, 4, 5];
    publish_round(&leaf, "s1", &live_rooms, 0).await;
    wait_for_rows(&pool, 8, Duration::from_secs(60)).await;
    let hub = stack.hub_client().await;
    register_model(&stack, &RegistryClient::new(hub.clone()), 0.0, 1).await;

    let client = DeploymentClient::new(hub);
    let by_site = |sites: &[&str], devices: &[&str]| StartRequest {
        model: MODEL.into(),
        version: 1,
        selector: Selector {
            sites: sites.iter().map(|s| (*s).to_owned()).collect(),
            devices: devices.iter().map(|d| (*d).to_owned()).collect(),
            ..Selector::default()
        },
        strategy: Some(Strategy {
            canary_share: 0.1,
            waves: vec![1.0],
        }),
        gates: Some(GateSettings {
            window_secs: 2,
            min_forecasts: 0,
            max_error_ratio: 1.2,
            max_failed_devices: 0,
            apply_timeout_secs: 30,
        }),
        actor: "ana".into(),
    };

    // A silent device named on its own refuses the rollout, and the refusal names it (only it).
    let refused = client
        .start(&by_site(&[], &["s1:room-001", "s1:room-004"]))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(codes::BAD_REQUEST), "{refused}");
    let text = refused.to_string();
    assert!(
        text.contains("s1:room-001") && text.contains("15m"),
        "{text}"
    );
    assert!(!text.contains("room-004"), "{text}");
    // A site with no live device is refused, naming its silent devices.
    let refused = client.start(&by_site(&["s2"], &[])).await.unwrap_err();
    assert_eq!(refused.code(), Some(codes::BAD_REQUEST), "{refused}");
    let text = refused.to_string();
    assert!(
        text.contains("no live device") && text.contains("s2:room-000, s2:room-001"),
        "{text}"
    );

    // By site: the live rooms only, the silent ones named in the reply.
    let reply = client.start(&by_site(&["s1"], &[])).await.unwrap();
    assert_eq!(reply.targets, live_rooms.len(), "{reply:?}");
    assert_eq!(reply.silent, silent, "{reply:?}");
    assert_eq!(reply.live_within_secs, 15 * 60);
    assert_eq!(reply.waves, [1, 2], "a canary of one, then the rest");
    // The start switched the canary: the first live room, no silent one.
    let canary = desired(&stack, "s1", &room(live_rooms[0])).await;
    assert_eq!(canary.map(|d| d.rollout), Some(Some(reply.rollout)));
    for i in &live_rooms[1..] {
        assert_eq!(desired(&stack, "s1", &room(*i)).await, None, "wave 1 waits");
    }
    status_when(
        &client,
        reply.rollout,
        "the rollout to complete",
        Duration::from_secs(30),
        |s| s.status == Status::Completed,
    )
    .await;
    for i in live_rooms {
        let held = desired(&stack, "s1", &room(i)).await.unwrap();
        assert_eq!((held.version, held.rollout), (1, Some(reply.rollout)));
    }
    for key in silent {
        let device = key.trim_start_matches("s1:");
        assert_eq!(
            desired(&stack, "s1", device).await,
            None,
            "{key} was left out"
        );
    }

    gateway.shutdown().await;
    deployment.shutdown().await;
    registry.shutdown().await;
    ingest.shutdown().await;
}
