//! The process backend, as the demo and the bench run it: a hub nats-server and one site's leaf
//! nats-server as processes (linked, configs rendered from `infra/nats/*.tmpl` into the stack's
//! directory), and Postgres in a container with one database made for the run. The hub can be
//! stopped and restarted (an uplink outage as the site sees it) through [`LocalStack::hub`] and
//! [`LocalStack::hub_launcher`].

use std::path::PathBuf;

use anyhow::Context as _;
use edgeops_contracts::SiteId;

use super::leaf_remote;
use super::processes::{
    NatsLauncher, NatsProcess, PostgresContainer, free_port, nats_server_binary,
};
use crate::nats_config::{Listen, hub_config, leaf_config};

/// What differs between the stacks of the demo and the bench.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// The one site (its leaf server's JetStream domain is `edge-<site>`).
    pub site: SiteId,
    /// Where configs, logs and JetStream stores go; created if missing.
    pub dir: PathBuf,
    /// Each server's JetStream file store limit (`20GB`).
    pub max_file_store: String,
    /// The Postgres container's name.
    pub postgres_name: String,
    /// Postgres server settings (`-c name=value` pairs).
    pub postgres_settings: Vec<&'static str>,
    /// The database created for the run.
    pub database: String,
}

/// A running local stack; [`LocalStack::stop`] stops it (dropping it kills the processes).
pub struct LocalStack {
    pub site: SiteId,
    pub dir: PathBuf,
    pub hub_port: u16,
    pub hub_monitor_port: u16,
    pub leaf_port: u16,
    pub leaf_monitor_port: u16,
    /// The leaf's MQTT listener.
    pub mqtt_port: u16,
    pub hub_url: String,
    pub leaf_url: String,
    pub database_url: String,
    /// Restarts the hub with the same config and store.
    pub hub_launcher: NatsLauncher,
    /// The running hub; `None` while it is down.
    pub hub: tokio::sync::Mutex<Option<NatsProcess>>,
    pub postgres: PostgresContainer,
    leaf: NatsProcess,
}

impl LocalStack {
    /// Renders the configs, starts the hub, the leaf and Postgres, and creates the database.
    pub async fn start(options: StackOptions) -> anyhow::Result<Self> {
        let StackOptions {
            site,
            dir,
            max_file_store,
            postgres_name,
            postgres_settings,
            database,
        } = options;
        let binary = nats_server_binary()?;
        std::fs::create_dir_all(&dir)?;
        let (hub_port, hub_monitor_port, leaf_port, leaf_monitor_port) =
            (free_port()?, free_port()?, free_port()?, free_port()?);
        let (leaf_link, mqtt_port) = (free_port()?, free_port()?);
        let listen = |client_port, monitor_port, store: &str| Listen {
            host: "127.0.0.1".into(),
            client_port,
            monitor_port,
            store_dir: dir.join(store).display().to_string(),
            max_file_store: max_file_store.clone(),
            mqtt_port,
        };
        std::fs::write(
            dir.join("hub.conf"),
            hub_config(
                "hub",
                &listen(hub_port, hub_monitor_port, "hub-js"),
                leaf_link,
            ),
        )?;
        std::fs::write(
            dir.join("leaf.conf"),
            leaf_config(
                &site,
                &listen(leaf_port, leaf_monitor_port, "leaf-js"),
                &leaf_remote("127.0.0.1", leaf_link),
            ),
        )?;
        let hub_launcher = NatsLauncher::new(&binary, &dir, "hub", hub_port);
        let hub = hub_launcher.start().await?;
        let leaf = NatsLauncher::new(&binary, &dir, "leaf", leaf_port)
            .start()
            .await?;
        let postgres = PostgresContainer::start_with(&postgres_name, &postgres_settings).await?;
        if let Err(err) = super::create_database(postgres.port, &database)
            .await
            .context("preparing Postgres")
        {
            postgres.stop().await;
            return Err(err);
        }
        Ok(Self {
            hub_url: format!("nats://127.0.0.1:{hub_port}"),
            leaf_url: format!("nats://127.0.0.1:{leaf_port}"),
            database_url: super::postgres_url(postgres.port, &database),
            site,
            dir,
            hub_port,
            hub_monitor_port,
            leaf_port,
            leaf_monitor_port,
            mqtt_port,
            hub_launcher,
            hub: tokio::sync::Mutex::new(Some(hub)),
            postgres,
            leaf,
        })
    }

    /// Stops the leaf, the hub (if up) and Postgres; removes the directory unless `keep_dir`.
    pub async fn stop(self, keep_dir: bool) {
        self.leaf.stop().await;
        if let Some(hub) = self.hub.lock().await.take() {
            hub.stop().await;
        }
        self.postgres.stop().await;
        if !keep_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
