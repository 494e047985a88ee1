//! Effects survive a restart: desired state lost while deployment was down (a crash between an
//! event and its writes looks the same) is written again from the rollout's events when it
//! starts, and a device report that arrived meanwhile is recorded from the durable consumer.

use std::time::Duration;

use edgeops_contracts::deployment::{AppliedFrom, DEVICE_AGGREGATE, ModelApplied};
use edgeops_contracts::{Actor, DeviceId, EventEnvelope, SiteId, streams};
use edgeops_deployment_api::DeploymentClient;
use edgeops_deployment_api::StartRequest;
use edgeops_deployment_api::{GateSettings, Selector, Strategy};
use edgeops_integration_tests::services::{spawn_deployment, spawn_registry};
use edgeops_integration_tests::{TestStack, check, wait_until};
use edgeops_registry_api::RegistryClient;

use super::fixtures::*;

const DEVICES: [&str; 3] = ["room-001", "room-002", "room-003"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_restart_rewrites_lost_desired_state_and_catches_up_on_reports() {
    let stack = TestStack::start(&[]).await;
    stack.register_sites(&[]).await;
    let registry = spawn_registry(&stack);
    let deployment = spawn_deployment(&stack);
    let hub = stack.hub_client().await;
    register_model(&stack, &RegistryClient::new(hub.clone()), 0.0, 1).await;
    let client = DeploymentClient::new(hub);
    let live: Vec<String> = DEVICES.iter().map(|d| format!("s1:{d}")).collect();
    let live: Vec<&str> = live.iter().map(String::as_str).collect();
    heard(&stack.pool().await, &live, Duration::ZERO).await;
    let request = StartRequest {
        model: MODEL.into(),
        version: 1,
        selector: Selector {
            devices: DEVICES.iter().map(|d| format!("s1:{d}")).collect(),
            ..Selector::default()
        },
        strategy: Some(Strategy {
            canary_share: 1.0,
            waves: vec![],
        }),
        gates: Some(GateSettings {
            apply_timeout_secs: 3_600,
            ..GateSettings::default()
        }),
        actor: "ops".into(),
    };
    let started = client.start(&request).await.unwrap();
    for device in DEVICES {
        let held = desired(&stack, "s1", device)
            .await
            .expect("written at start");
        assert_eq!((held.version, held.rollout), (1, Some(started.rollout)));
    }

    // Down: the keys are lost, and a gateway reports one device applied.
    deployment.shutdown().await;
    let js = stack.hub_js().await;
    let kv = js.get_key_value(streams::DESIRED_BUCKET).await.unwrap();
    for device in DEVICES {
        kv.delete(format!("s1.{device}")).await.unwrap();
    }
    assert!(desired(&stack, "s1", DEVICES[0]).await.is_none());
    let report = ModelApplied {
        site: SiteId::parse("s1").unwrap(),
        device: DeviceId::parse(DEVICES[0]).unwrap(),
        model: MODEL.into(),
        version: 1,
        warm_up_us: 10,
        from: AppliedFrom::Fetched,
        rollout: Some(started.rollout),
    };
    let event = EventEnvelope::new(
        DEVICE_AGGREGATE,
        &format!("s1:{}", DEVICES[0]),
        Actor::Device("gateway:s1".into()),
        report,
    );
    edgeops_bus::publish_event(&js, &event, None).await.unwrap();

    // Up again: the intent is written back, and the report recorded.
    let deployment = spawn_deployment(&stack);
    wait_until(
        "the desired state written again",
        Duration::from_secs(30),
        || async {
            let mut back = 0;
            for device in DEVICES {
                if desired(&stack, "s1", device)
                    .await
                    .is_some_and(|d| d.rollout == Some(started.rollout) && d.version == 1)
                {
                    back += 1;
                }
            }
            check(
                back == DEVICES.len(),
                format!("{back} of {}", DEVICES.len()),
            )
        },
    )
    .await;
    status_when(
        &client,
        started.rollout,
        "the report recorded",
        Duration::from_secs(30),
        |s| s.waves[0].applied == 1,
    )
    .await;
    deployment.shutdown().await;
    registry.shutdown().await;
}
