//! The gates hold, commands are refused with the right codes, concurrent commands conflict,
//! and the `prod` query answers training's contract.

use edgeops_contracts::training::Scope as TrainingScope;
use edgeops_contracts::{Actor, subjects};
use edgeops_integration_tests::TestStack;
use edgeops_integration_tests::services::{registry_test_key, spawn_registry, spawn_registry_with};
use edgeops_registry::domain::ModelVersionKey;
use edgeops_registry::versions;
use edgeops_registry_api::RegistryClient;
use edgeops_registry_api::{ArchiveRequest, codes};
use edgeops_registry_api::{Gate, ModelName, Stage};
use edgeops_registry_api::{ProdQuery, ProdReply};

use super::fixtures::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_refuses_to_promote_a_version_that_does_not_beat_persistence() {
    let stack = TestStack::start(&[]).await;
    let js = stack.hub_js().await;
    provision(&js).await;
    let mut config =
        edgeops_registry::RegistryConfig::local(stack.hub_url.clone(), stack.database_url.clone());
    config.auto_stage = false;
    let registry = spawn_registry_with(config, registry_test_key());
    let client = RegistryClient::new(stack.hub_client().await);
    let worse = Scored {
        rmse: 55.0,
        persistence: 50.0,
        holdout: "hold-1",
        incumbent: None,
    };
    train(&js, "co2-room", &worse).await;
    let detail = signed(&client, "co2-room", 1).await;
    assert_eq!(detail.summary.stage, Stage::Dev);
    assert!(detail.gate_failures.is_empty(), "auto-staging is off");

    let err = client
        .promote(&promote("co2-room", 1, Stage::Staging, "alice"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(codes::GATE_REFUSED), "{err}");
    assert!(
        err.to_string().contains("does not beat persistence"),
        "{err}"
    );
    let err = client
        .promote(&promote("co2-room", 1, Stage::Prod, "alice"))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(codes::CONFLICT),
        "no skipping staging: {err}"
    );

    let detail = version_when(&client, "co2-room", 1, "the refusal on record", |d| {
        !d.gate_failures.is_empty()
    })
    .await;
    assert_eq!(detail.gate_failures.len(), 1);
    assert_eq!(detail.gate_failures[0].gate, Gate::BeatsPersistence);
    assert_eq!(detail.gate_failures[0].to, Stage::Staging);
    settled(&js).await;
    let detail = client.version("co2-room", 1).await.unwrap();
    assert_eq!(detail.summary.stage, Stage::Dev);
    assert!(detail.stage_history.is_empty());
    assert_eq!(
        version_events(&js, "co2-room", 1).await,
        [
            "model_version.registered",
            "model_version.metrics_attached",
            "model_version.manifest_signed",
            "model_version.gate_failed"
        ]
    );

    // Requests that cannot be right are refused with the matching code.
    let unknown = client
        .promote(&promote("co2-room", 9, Stage::Staging, "alice"))
        .await;
    assert_eq!(unknown.unwrap_err().code(), Some(codes::NOT_FOUND));
    let bad_name = client
        .promote(&promote("co2 room", 1, Stage::Staging, "alice"))
        .await;
    assert_eq!(bad_name.unwrap_err().code(), Some(codes::BAD_REQUEST));
    let no_actor = client
        .promote(&promote("co2-room", 1, Stage::Staging, " "))
        .await;
    assert_eq!(no_actor.unwrap_err().code(), Some(codes::BAD_REQUEST));
    let no_reason = client
        .archive(&ArchiveRequest {
            model: "co2-room".into(),
            version: 1,
            actor: "alice".into(),
            reason: " ".into(),
        })
        .await;
    assert_eq!(no_reason.unwrap_err().code(), Some(codes::BAD_REQUEST));
    assert_eq!(
        client.version("nope", 1).await.unwrap_err().code(),
        Some(codes::NOT_FOUND)
    );
    registry.shutdown().await;
}

/// Asks `prod` exactly as training does: a raw `ProdQuery`, a `ProdReply` back.
async fn prod_of(nats: &async_nats::Client, model: &str, scope: &str) -> Result<ProdReply, String> {
    let query = ProdQuery {
        model: model.into(),
        scope: TrainingScope::parse(scope).unwrap(),
    };
    let reply = nats
        .request(
            subjects::service_endpoint("registry", "prod"),
            serde_json::to_vec(&query).unwrap().into(),
        )
        .await
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&reply.payload).map_err(|e| e.to_string())
}

/// Waits until `prod` names `version` (or nothing) for the scope.
async fn prod_becomes(
    nats: &async_nats::Client,
    model: &str,
    scope: &str,
    version: Option<u32>,
) -> ProdReply {
    edgeops_integration_tests::wait_until(
        &format!("prod of {model} for {scope} to be {version:?}"),
        std::time::Duration::from_secs(30),
        || async move {
            let reply = prod_of(nats, model, scope).await?;
            let now = reply.prod.as_ref().map(|p| p.version);
            if now == version {
                Ok(Some(reply))
            } else {
                Err(format!("{now:?}"))
            }
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_prod_needs_a_version_not_worse_than_prod_and_the_prod_query_names_it() {
    let stack = TestStack::start(&[]).await;
    let js = stack.hub_js().await;
    provision(&js).await;
    let registry = spawn_registry(&stack);
    let client = RegistryClient::new(stack.hub_client().await);
    let nats = stack.hub_client().await;
    prod_becomes(&nats, "co2-room", "site:s1", None).await;

    let v1 = train(&js, "co2-room", &GOOD).await;
    assert_eq!(
        registered(&client, "co2-room", 1).await.summary.stage,
        Stage::Staging
    );
    let promoted = client
        .promote(&promote("co2-room", 1, Stage::Prod, "alice"))
        .await
        .unwrap();
    assert_eq!(promoted.stage, Stage::Prod);
    assert!(
        promoted.reason.contains("no version is in prod"),
        "{}",
        promoted.reason
    );
    let reply = prod_becomes(&nats, "co2-room", "site:s1", Some(1)).await;
    let prod = reply.prod.unwrap();
    assert_eq!(
        (prod.model.as_str(), prod.artifact),
        ("co2-room", v1.artifact)
    );

    // Worse than prod v1 on its own holdout, as training measured: refused.
    let worse = Scored {
        rmse: 45.0,
        persistence: 50.0,
        holdout: "hold-2",
        incumbent: Some((1, 42.0)),
    };
    train(&js, "co2-room", &worse).await;
    registered(&client, "co2-room", 2).await;
    let err = client
        .promote(&promote("co2-room", 2, Stage::Prod, "alice"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(codes::GATE_REFUSED), "{err}");
    assert!(err.to_string().contains("worse than prod v1"), "{err}");
    // Better, but nobody measured prod on its holdout: an unmeasured comparison is no pass.
    let unmeasured = Scored {
        rmse: 30.0,
        persistence: 50.0,
        holdout: "hold-3",
        incumbent: None,
    };
    train(&js, "co2-room", &unmeasured).await;
    registered(&client, "co2-room", 3).await;
    let err = client
        .promote(&promote("co2-room", 3, Stage::Prod, "alice"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(codes::GATE_REFUSED), "{err}");
    // Not worse than v1 on its holdout: promoted, and it serves.
    let better = Scored {
        rmse: 38.0,
        persistence: 50.0,
        holdout: "hold-4",
        incumbent: Some((1, 42.0)),
    };
    let v4 = train(&js, "co2-room", &better).await;
    registered(&client, "co2-room", 4).await;
    client
        .promote(&promote("co2-room", 4, Stage::Prod, "bob"))
        .await
        .unwrap();
    let reply = prod_becomes(&nats, "co2-room", "site:s1", Some(4)).await;
    assert_eq!(reply.prod.unwrap().artifact, v4.artifact);
    assert_eq!(
        prod_of(&nats, "co2-room", "site:s2").await.unwrap().prod,
        None
    );
    assert_eq!(
        prod_of(&nats, "no-such-model", "site:s1")
            .await
            .unwrap()
            .prod,
        None
    );

    settled(&js).await;
    let versions = client.versions("co2-room").await.unwrap();
    let stages: Vec<(u32, Stage, bool)> = versions
        .iter()
        .map(|v| (v.version, v.stage, v.serving))
        .collect();
    assert_eq!(
        stages,
        [
            (4, Stage::Prod, true),
            (3, Stage::Staging, false),
            (2, Stage::Staging, false),
            (1, Stage::Prod, false),
        ]
    );
    let models = client.models().await.unwrap();
    assert_eq!(models.len(), 1);
    assert_eq!((models[0].versions, models[0].latest_version), (4, 4));
    assert_eq!(models[0].serving.len(), 1);
    assert_eq!(
        (
            models[0].serving[0].scope.as_str(),
            models[0].serving[0].version
        ),
        ("site:s1", 4)
    );

    // Archiving the serving version hands the scope back to the previous prod version.
    let archived = client
        .archive(&ArchiveRequest {
            model: "co2-room".into(),
            version: 4,
            actor: "bob".into(),
            reason: "rollback: complaints from room 12".into(),
        })
        .await
        .unwrap();
    assert_eq!(archived.stage, Stage::Archived);
    prod_becomes(&nats, "co2-room", "site:s1", Some(1)).await;
    registry.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_lets_exactly_one_of_two_concurrent_promotions_win() {
    let stack = TestStack::start(&[]).await;
    let js = stack.hub_js().await;
    provision(&js).await;
    let registry = spawn_registry(&stack);
    let client = RegistryClient::new(stack.hub_client().await);
    train(&js, "co2-room", &GOOD).await;
    train(&js, "co2-room", &GOOD).await;
    registered(&client, "co2-room", 1).await;
    registered(&client, "co2-room", 2).await;

    let (by_alice, by_bob) = (
        promote("co2-room", 1, Stage::Prod, "alice"),
        promote("co2-room", 1, Stage::Prod, "bob"),
    );
    let (alice, bob) = tokio::join!(client.promote(&by_alice), client.promote(&by_bob));
    let (won, lost) = match (alice, bob) {
        (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
        other => panic!("expected exactly one winner: {other:?}"),
    };
    assert_eq!(won.stage, Stage::Prod);
    assert_eq!(lost.code(), Some(codes::CONFLICT), "{lost}");
    let promotions = version_events(&js, "co2-room", 1).await;
    assert_eq!(
        promotions
            .iter()
            .filter(|t| *t == "model_version.stage_changed")
            .count(),
        2
    );

    // Decided on a state that has since moved on: the append is refused, nothing recorded.
    let key = ModelVersionKey {
        model: ModelName::parse("co2-room").unwrap(),
        version: 2,
    };
    let stale = versions(&js).load(&key.aggregate_id()).await.unwrap();
    client
        .promote(&promote("co2-room", 2, Stage::Prod, "alice"))
        .await
        .unwrap();
    let actor = Actor::User("bob".into());
    let archive = edgeops_registry::domain::Command::Archive {
        actor: actor.clone(),
        reason: "decided on what bob saw".into(),
        at: chrono::Utc::now(),
    };
    let err = edgeops_registry::decide_and_append(&js, &key, &stale, archive, &actor)
        .await
        .unwrap_err();
    assert_eq!(err.code(), codes::CONFLICT);
    assert!(
        err.to_string()
            .contains("version moved on: reload and retry"),
        "{err}"
    );
    let events = version_events(&js, "co2-room", 2).await;
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(
        events.last().map(String::as_str),
        Some("model_version.stage_changed")
    );
    settled(&js).await;
    assert_eq!(
        client.version("co2-room", 2).await.unwrap().summary.stage,
        Stage::Prod
    );
    registry.shutdown().await;
}
