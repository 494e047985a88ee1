//! What every service's Postgres connection is like.

use edgeops_integration_tests::TestStack;

/// Postgres sends no NOTICEs to the services (so sqlx logs no "relation _sqlx_migrations
/// already exists, skipping" on every start), warnings still.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_connect_without_postgres_notices() {
    let stack = TestStack::start(&[]).await;
    let pool = edgeops_store::connect_and_migrate(&stack.database_url, 2)
        .await
        .unwrap();
    edgeops_store::migrate(&pool).await.unwrap();
    let level: String = sqlx::query_scalar("SHOW client_min_messages")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(level, "warning");
}
