//! The settings every hub service reads the same way: where the hub and the database are.

use async_nats::Client;
use async_nats::jetstream::{self, Context};
use edgeops_contracts::streams;
use edgeops_store::StoreError;
use edgeops_store::sqlx::PgPool;

pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres:postgres@127.0.0.1:5432/edgeops";

/// The hub's NATS connection (`#[command(flatten)]` it into a service's config).
#[derive(Debug, Clone, clap::Args)]
pub struct HubArgs {
    /// NATS URL of the hub.
    #[arg(long, env = "EDGEOPS_NATS_URL", default_value = DEFAULT_NATS_URL)]
    pub nats_url: String,
}

impl HubArgs {
    pub fn new(nats_url: impl Into<String>) -> Self {
        Self {
            nats_url: nats_url.into(),
        }
    }

    /// Connects as `edgeops-<name>` (what `nats server report connections` shows) and opens
    /// the hub's JetStream domain.
    pub async fn connect(
        &self,
        name: &str,
    ) -> Result<(Client, Context), edgeops_bus::ConnectError> {
        let client = edgeops_bus::connect(&self.nats_url, &format!("edgeops-{name}")).await?;
        let js = jetstream::with_domain(client.clone(), streams::HUB_DOMAIN);
        Ok((client, js))
    }
}

/// The service's Postgres database (`#[command(flatten)]` it into a service's config).
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// Postgres URL (the service's schema is created by migrations on start).
    #[arg(long, env = "EDGEOPS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

impl DatabaseArgs {
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
        }
    }

    /// A pool of at most `max_connections`, with the project's migrations applied.
    pub async fn connect_and_migrate(&self, max_connections: u32) -> Result<PgPool, StoreError> {
        edgeops_store::connect_and_migrate(&self.database_url, max_connections).await
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        hub: HubArgs,
        #[command(flatten)]
        database: DatabaseArgs,
    }

    #[test]
    fn flags_keep_their_names_and_defaults() {
        let cli = Cli::try_parse_from(["svc"]).unwrap();
        assert_eq!(cli.hub.nats_url, DEFAULT_NATS_URL);
        assert_eq!(cli.database.database_url, DEFAULT_DATABASE_URL);
        let cli = Cli::try_parse_from([
            "svc",
            "--nats-url",
            "nats://hub:4222",
            "--database-url",
            "postgres://db/x",
        ])
        .unwrap();
        assert_eq!(cli.hub.nats_url, "nats://hub:4222");
        assert_eq!(cli.database.database_url, "postgres://db/x");
    }

    #[test]
    fn flags_read_the_edgeops_environment_variables() {
        let command = <Cli as clap::CommandFactory>::command();
        let env = |id: &str| {
            command
                .get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(|a| a.get_env())
                .map(|e| e.to_string_lossy().into_owned())
        };
        assert_eq!(env("nats_url").as_deref(), Some("EDGEOPS_NATS_URL"));
        assert_eq!(env("database_url").as_deref(), Some("EDGEOPS_DATABASE_URL"));
    }
}
