//! (c) Two operators acting on one rollout at once: one wins, the other is told why not —
//! whether both name the sequence they saw or neither does; a stale sequence is refused too,
//! and every recorded action carries its operator.

use std::time::Duration;

use edgeops_contracts::Actor;
use edgeops_deployment_api::{Act, ClientError, DeploymentClient};
use edgeops_deployment_api::{ActRequest, ListRequest, StartReply, StartRequest, codes};
use edgeops_deployment_api::{GateSettings, Selector, Status, Strategy};
use edgeops_integration_tests::services::{spawn_deployment, spawn_registry};
use edgeops_integration_tests::{TestStack, check, wait_until};
use edgeops_registry_api::RegistryClient;
use uuid::Uuid;

use super::fixtures::*;

/// A rollout to devices no gateway serves (live: their readings reach the hub, see [`heard`]):
/// nothing acknowledges, so only operators act on it.
async fn quiet_rollout(client: &DeploymentClient, devices: &[&str]) -> StartReply {
    let request = StartRequest {
        model: MODEL.into(),
        version: 1,
        selector: Selector {
            devices: devices.iter().map(|d| (*d).to_owned()).collect(),
            ..Selector::default()
        },
        strategy: None,
        gates: Some(GateSettings {
            apply_timeout_secs: 3_600,
            ..GateSettings::default()
        }),
        actor: "ops".into(),
    };
    client.start(&request).await.unwrap()
}

fn act(rollout: Uuid, actor: &str, expected_sequence: Option<u64>) -> ActRequest {
    ActRequest {
        rollout,
        actor: actor.into(),
        reason: Some(format!("{actor} says so")),
        expected_sequence,
    }
}

/// Exactly one of two outcomes is a success; returns the refusal's message.
fn one_wins<T: std::fmt::Debug>(a: &Result<T, ClientError>, b: &Result<T, ClientError>) -> String {
    let refusal = match (a, b) {
        (Ok(_), Err(err)) | (Err(err), Ok(_)) => err,
        other => panic!("expected exactly one winner, got {other:?}"),
    };
    assert_eq!(refusal.code(), Some(codes::CONFLICT), "{refusal}");
    refusal.to_string()
}

/// The operators' actions recorded on the rollout (start aside).
async fn operator_actions(client: &DeploymentClient, rollout: Uuid) -> Vec<(String, Actor)> {
    let status = client.status(rollout).await.unwrap();
    status
        .history
        .into_iter()
        .filter(|h| matches!(&h.actor, Actor::User(id) if id != "ops"))
        .map(|h| (h.event_type, h.actor))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_two_operators_at_once_one_wins_the_other_is_told_why() {
    let stack = TestStack::start(&[]).await;
    stack.register_sites(&[]).await;
    let registry = spawn_registry(&stack);
    let deployment = spawn_deployment(&stack);
    let hub = stack.hub_client().await;
    register_model(&stack, &RegistryClient::new(hub.clone()), 0.0, 1).await;
    let client = DeploymentClient::new(hub);
    // Their readings reached the hub just now: live, though no gateway serves them.
    let pool = stack.pool().await;
    heard(
        &pool,
        &["s1:room-001", "s1:room-002", "s1:room-003"],
        Duration::ZERO,
    )
    .await;

    // Both saw the rollout at the same sequence: pause and cancel race; one is recorded.
    let first = quiet_rollout(&client, &["s1:room-001", "s1:room-002"]).await;
    let (ana, ben) = (
        act(first.rollout, "ana", Some(first.sequence)),
        act(first.rollout, "ben", Some(first.sequence)),
    );
    let (pause, cancel) = tokio::join!(client.act(Act::Pause, &ana), client.act(Act::Cancel, &ben));
    let why = one_wins(&pause, &cancel);
    let (winner, action) = match &pause {
        Ok(_) => ("user:ana", "rollout.paused"),
        Err(_) => ("user:ben", "rollout.cancelled"),
    };
    assert!(
        why.contains("moved on") && why.contains(winner) && why.contains(action),
        "the loser hears who did what: {why}"
    );
    let recorded = operator_actions(&client, first.rollout).await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].0, action);

    // Neither names a sequence: two pauses race; one is recorded, the other is refused with
    // the reason (the other's pause, or that the rollout is paused already).
    let second = quiet_rollout(&client, &["s1:room-003"]).await;
    let (cleo, dan) = (
        act(second.rollout, "cleo", None),
        act(second.rollout, "dan", None),
    );
    let (a, b) = tokio::join!(client.act(Act::Pause, &cleo), client.act(Act::Pause, &dan));
    let why = one_wins(&a, &b);
    assert!(
        why.contains("moved on") || why.contains("only a running rollout pauses"),
        "{why}"
    );
    let paused = match &a {
        Ok(reply) => reply,
        Err(_) => b.as_ref().unwrap(),
    };
    assert_eq!(paused.status, Status::Paused);
    assert_eq!(operator_actions(&client, second.rollout).await.len(), 1);

    // A stale sequence is refused even when nobody else is acting right now.
    let stale = client
        .act(
            Act::Resume,
            &act(second.rollout, "cleo", Some(second.sequence)),
        )
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Some(codes::CONFLICT), "{stale}");
    assert!(stale.to_string().contains("moved on"), "{stale}");
    let resumed = client
        .act(
            Act::Resume,
            &act(second.rollout, "cleo", Some(paused.sequence)),
        )
        .await
        .unwrap();
    assert_eq!(resumed.status, Status::Running);

    // A device in an unfinished rollout cannot join another one; an unknown rollout is 404.
    let request = StartRequest {
        model: MODEL.into(),
        version: 1,
        selector: Selector {
            devices: vec!["s1:room-003".into()],
            ..Selector::default()
        },
        strategy: None,
        gates: None,
        actor: "ops".into(),
    };
    let overlap = client.start(&request).await.unwrap_err();
    assert_eq!(overlap.code(), Some(codes::CONFLICT), "{overlap}");
    let unknown = client
        .act(Act::Pause, &act(Uuid::now_v7(), "ana", None))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Some(codes::NOT_FOUND), "{unknown}");

    // Bad input is refused with a reason and changes nothing.
    let garbage: Result<StartReply, _> = edgeops_bus::service::call(
        &stack.hub_client().await,
        edgeops_deployment::SERVICE_NAME,
        "start",
        &serde_json::json!({"model": MODEL, "version": "one"}),
    )
    .await;
    let garbage = garbage.unwrap_err();
    assert_eq!(garbage.code(), Some(codes::BAD_REQUEST), "{garbage}");
    let no_canary = client
        .start(&StartRequest {
            strategy: Some(Strategy {
                canary_share: 0.0,
                waves: vec![1.0],
            }),
            ..request.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(no_canary.code(), Some(codes::BAD_REQUEST), "{no_canary}");
    for selector in [
        Selector::default(),
        Selector {
            devices: vec!["room-without-a-site".into()],
            ..Selector::default()
        },
    ] {
        let refused = client
            .start(&StartRequest {
                selector,
                ..request.clone()
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Some(codes::BAD_REQUEST), "{refused}");
    }

    // The projection lists both, with their current status and last actor.
    wait_until("the list to catch up", Duration::from_secs(20), || async {
        let listed = client
            .list(&ListRequest::default())
            .await
            .map_err(|e| e.to_string())?;
        let second_row = listed.iter().find(|r| r.rollout == second.rollout);
        check(
            listed.len() == 2
                && second_row.is_some_and(|r| {
                    r.status == Status::Running && r.last_actor == Actor::User("cleo".into())
                }),
            format!("{listed:?}"),
        )
    })
    .await;

    // The projection rebuilds from the stream to the same rows.
    let before = client.list(&ListRequest::default()).await.unwrap();
    let config = edgeops_deployment::DeploymentConfig::local(
        stack.hub_url.clone(),
        stack.database_url.clone(),
    );
    let report = edgeops_deployment::rebuild_projection(&config)
        .await
        .unwrap();
    assert_eq!(report.skipped, 0);
    assert!(report.applied >= 7, "{report:?}");
    assert_eq!(client.list(&ListRequest::default()).await.unwrap(), before);

    deployment.shutdown().await;
    registry.shutdown().await;
}
