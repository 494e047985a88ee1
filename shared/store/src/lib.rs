//! Postgres access shared by the services: a pool, and the project's migrations from the
//! top-level `migrations/` folder, embedded at compile time. Each service owns one schema
//! (`ingest`, later `preprocessing`, `registry`, ...) and touches no other.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

pub use sqlx;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid database URL: {0}")]
    InvalidUrl(#[source] sqlx::Error),
    #[error("connecting to Postgres: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("running migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// Connects a pool of at most `max_connections`, waiting up to `connect_timeout` for the first.
pub async fn connect(
    url: &str,
    max_connections: u32,
    connect_timeout: Duration,
) -> Result<PgPool, StoreError> {
    let options: PgConnectOptions = url.parse().map_err(StoreError::InvalidUrl)?;
    let options = options.log_statements(tracing::log::LevelFilter::Trace);
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(connect_timeout)
        .connect_with(options)
        .await
        .map_err(StoreError::Connect)
}

/// Applies every migration not yet applied. Safe to run from several replicas at once
/// (sqlx takes an advisory lock).
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Connects and applies the migrations: what every service does on start.
pub async fn connect_and_migrate(url: &str, max_connections: u32) -> Result<PgPool, StoreError> {
    let pool = connect(url, max_connections, Duration::from_secs(10)).await?;
    migrate(&pool).await?;
    Ok(pool)
}
