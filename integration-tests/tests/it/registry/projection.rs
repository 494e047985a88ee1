//! The projection: redelivery adds nothing, and a rebuild from the stream yields the same rows.

use edgeops_contracts::{streams, subjects};
use edgeops_eventsourcing::{Recorded, decode};
use edgeops_integration_tests::TestStack;
use edgeops_integration_tests::services::spawn_registry;
use edgeops_registry::domain::ModelVersionState;
use edgeops_registry_api::RegistryClient;
use edgeops_registry_api::Stage;
use edgeops_registry_api::{ArchiveRequest, codes};

use super::fixtures::*;

/// Every row of every table of the `registry` schema, as JSON text, table by table.
async fn snapshot(pool: &sqlx::PgPool) -> std::collections::BTreeMap<String, Vec<String>> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'registry' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = std::collections::BTreeMap::new();
    for table in tables {
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT row_to_json(t)::text FROM registry.\"{table}\" t ORDER BY 1"
        ))
        .fetch_all(pool)
        .await
        .unwrap();
        out.insert(table, rows);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_projection_rebuilt_from_the_stream_has_identical_rows() {
    use edgeops_eventsourcing::apply_event;
    use edgeops_registry::projection::{Applied, RegistryProjection, rebuild};

    let stack = TestStack::start(&[]).await;
    let js = stack.hub_js().await;
    provision(&js).await;
    let registry = spawn_registry(&stack);
    let client = RegistryClient::new(stack.hub_client().await);
    let worse = Scored {
        rmse: 60.0,
        persistence: 50.0,
        holdout: "hold-1",
        incumbent: None,
    };
    train(&js, "co2-room", &GOOD).await;
    train(&js, "co2-room", &worse).await;
    train(&js, "co2-room", &GOOD).await;
    train(&js, "temp-room", &GOOD).await;
    for (model, version) in [
        ("co2-room", 1),
        ("co2-room", 2),
        ("co2-room", 3),
        ("temp-room", 1),
    ] {
        registered(&client, model, version).await;
    }
    client
        .promote(&promote("co2-room", 1, Stage::Prod, "alice"))
        .await
        .unwrap();
    let refused = client
        .promote(&promote("co2-room", 2, Stage::Staging, "alice"))
        .await;
    assert_eq!(refused.unwrap_err().code(), Some(codes::GATE_REFUSED));
    let archive = ArchiveRequest {
        model: "co2-room".into(),
        version: 3,
        actor: "bob".into(),
        reason: "superseded".into(),
    };
    client.archive(&archive).await.unwrap();
    settled(&js).await;

    let pool = stack.pool().await;
    let before = snapshot(&pool).await;
    assert_eq!(before.len(), 5, "{:?}", before.keys());
    assert!(before.values().all(|rows| !rows.is_empty()), "{before:#?}");
    assert_eq!(
        before["gate_failures"].len(),
        2,
        "auto-staging's and alice's refusals"
    );

    // Redelivery adds nothing: every event applied again is recognised.
    let all = subjects::all_aggregate_events("model_version");
    let events = edgeops_bus::read_subject(&js, streams::EVENTS, &all)
        .await
        .unwrap();
    assert_eq!(events.len(), before["applied_events"].len());
    for (sequence, bytes) in &events {
        let (meta, event) = decode::<ModelVersionState>(bytes).unwrap();
        let recorded = Recorded {
            sequence: *sequence,
            meta,
            event,
        };
        let applied = apply_event(&RegistryProjection, &pool, &recorded)
            .await
            .unwrap();
        assert_eq!(applied, Applied::Duplicate);
    }
    assert_eq!(snapshot(&pool).await, before);

    // Drop the projection, then rebuild it from the stream as `edgeops-registry
    // rebuild-projection` does: the same rows, every one.
    sqlx::raw_sql(
        "DELETE FROM registry.gate_failures; DELETE FROM registry.stage_changes;
         DELETE FROM registry.model_versions; DELETE FROM registry.models;
         DELETE FROM registry.applied_events",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert!(snapshot(&pool).await.values().all(Vec::is_empty));
    let config =
        edgeops_registry::RegistryConfig::local(stack.hub_url.clone(), stack.database_url.clone());
    let report = edgeops_registry::rebuild_projection(&config).await.unwrap();
    assert_eq!(report.applied as usize, events.len());
    assert_eq!(report.skipped, 0);
    assert_eq!(snapshot(&pool).await, before);
    // And again over a full projection, while the service runs.
    rebuild(&pool, &js).await.unwrap();
    assert_eq!(snapshot(&pool).await, before);
    let serving = client.models().await.unwrap();
    assert_eq!(serving[0].serving[0].version, 1);
    registry.shutdown().await;
}
