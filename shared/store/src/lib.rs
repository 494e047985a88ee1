//! Postgres access shared by the services: a pool, and the project's migrations from the
//! top-level `migrations/` folder, embedded at compile time. Each service owns one schema
//! (`ingest`, `preprocessing`, `registry`, `deployment`, ...) and names no other's tables: it
//! reads another's data only through a view the owner publishes for it (`tests/schema_boundaries.rs`).

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

/// The least severe message Postgres sends its clients. NOTICEs are chatter for people at a
/// psql prompt (every start's `CREATE TABLE IF NOT EXISTS _sqlx_migrations` says "relation
/// already exists, skipping"), and sqlx would log each one at `info`; warnings still arrive.
pub const CLIENT_MIN_MESSAGES: &str = "warning";

/// The options every connection is made with: `url`'s, statements logged only at `trace`, and
/// no NOTICEs sent (see [`CLIENT_MIN_MESSAGES`]) unless the URL's `options` ask for them.
pub fn connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    let options: PgConnectOptions = url.parse().map_err(StoreError::InvalidUrl)?;
    let options = options.log_statements(tracing::log::LevelFilter::Trace);
    if options
        .get_options()
        .is_some_and(|o| o.contains("client_min_messages"))
    {
        return Ok(options);
    }
    Ok(options.options([("client_min_messages", CLIENT_MIN_MESSAGES)]))
}

/// Connects a pool of at most `max_connections`, waiting up to `connect_timeout` for the first.
pub async fn connect(
    url: &str,
    max_connections: u32,
    connect_timeout: Duration,
) -> Result<PgPool, StoreError> {
    let options = connect_options(url)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_ask_postgres_for_warnings_not_notices() {
        let options =
            connect_options("postgres://postgres:postgres@127.0.0.1:5432/edgeops").unwrap();
        assert_eq!(
            options.get_options(),
            Some("-c client_min_messages=warning")
        );
    }

    #[test]
    fn options_in_the_url_are_kept() {
        let options =
            connect_options("postgres://u:p@127.0.0.1/db?options=-c%20statement_timeout%3D5s")
                .unwrap();
        assert_eq!(
            options.get_options(),
            Some("-c statement_timeout=5s -c client_min_messages=warning")
        );
        let asked = "postgres://u:p@127.0.0.1/db?options=-c%20client_min_messages%3Dnotice";
        assert_eq!(
            connect_options(asked).unwrap().get_options(),
            Some("-c client_min_messages=notice")
        );
    }
}
