//! The operator's `edgeops rollout` commands against a running deployment service, over real
//! NATS: a listing gets its answer, and the status of a rollout that does not exist is refused
//! with the rollout named.

// Test code: a failed step fails the test, with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use edgeops_cli::commands::HubArgs;
use edgeops_cli::commands::rollout::{RolloutArgs, RolloutCommand, run};
use edgeops_integration_tests::services::spawn_deployment;
use edgeops_integration_tests::{TestStack, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_list_and_status_get_deployments_answers() {
    let stack = TestStack::start(&["s1"]).await;
    let deployment = spawn_deployment(&stack);
    let args = |command| RolloutArgs {
        hub: HubArgs {
            nats_url: stack.hub_url.clone(),
        },
        json: true,
        command,
    };
    // The first listing waits for the service to register its endpoints.
    wait_until(
        "`rollout list` answered",
        Duration::from_secs(60),
        || async {
            let list = RolloutCommand::List {
                active: false,
                limit: 10,
            };
            run(args(list))
                .await
                .map(Some)
                .map_err(|e| format!("{e:#}"))
        },
    )
    .await;

    let missing = uuid::Uuid::now_v7();
    let refused = run(args(RolloutCommand::Status { rollout: missing }))
        .await
        .expect_err("no such rollout");
    assert!(
        format!("{refused:#}").contains(&format!("no rollout {missing}")),
        "{refused:#}"
    );
    deployment.shutdown().await;
}
