//! The benchmark's servers: hub and one site's leaf nats-server, and Postgres with its
//! default durability (fsync on): figures are for a configuration one would run.

use std::path::PathBuf;

use edgeops_contracts::SiteId;

use crate::demo::processes::{
    INGEST_SETTINGS, NatsLauncher, NatsProcess, PostgresContainer, free_port, nats_server_binary,
};
use crate::nats_config::{Listen, hub_config, leaf_config};

pub struct BenchStack {
    pub site: SiteId,
    pub hub_url: String,
    pub leaf_url: String,
    pub database_url: String,
    pub hub_launcher: NatsLauncher,
    pub hub: tokio::sync::Mutex<Option<NatsProcess>>,
    leaf: NatsProcess,
    postgres: PostgresContainer,
    dir: PathBuf,
}

impl BenchStack {
    pub async fn start() -> anyhow::Result<Self> {
        let site = SiteId::parse("bench")?;
        let binary = nats_server_binary()?;
        let dir =
            std::env::temp_dir().join(format!("edgeops-bench-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir)?;
        let (hub_port, leaf_port, link) = (free_port()?, free_port()?, free_port()?);
        let listen = |client_port, store: &str| -> anyhow::Result<Listen> {
            Ok(Listen {
                host: "127.0.0.1".into(),
                client_port,
                monitor_port: free_port()?,
                store_dir: dir.join(store).display().to_string(),
                max_file_store: "40GB".into(),
                mqtt_port: free_port()?,
            })
        };
        std::fs::write(
            dir.join("hub.conf"),
            hub_config("hub", &listen(hub_port, "hub-js")?, link),
        )?;
        std::fs::write(
            dir.join("leaf.conf"),
            leaf_config(
                &site,
                &listen(leaf_port, "leaf-js")?,
                &format!("nats-leaf://127.0.0.1:{link}"),
            ),
        )?;
        let hub_launcher = NatsLauncher::new(&binary, &dir, "hub", hub_port);
        let hub = hub_launcher.start().await?;
        let leaf = NatsLauncher::new(&binary, &dir, "leaf", leaf_port)
            .start()
            .await?;
        let postgres = PostgresContainer::start_with(
            &format!("edgeops-bench-pg-{}", std::process::id()),
            INGEST_SETTINGS,
        )
        .await?;
        postgres.create_database("edgeops").await?;
        let settings: Vec<&str> = INGEST_SETTINGS
            .iter()
            .copied()
            .filter(|arg| *arg != "-c")
            .collect();
        eprintln!(
            "bench: hub 127.0.0.1:{hub_port}, leaf 127.0.0.1:{leaf_port}, Postgres 127.0.0.1:{} (fsync on, {})",
            postgres.port,
            settings.join(", ")
        );
        Ok(Self {
            site,
            hub_url: format!("nats://127.0.0.1:{hub_port}"),
            leaf_url: format!("nats://127.0.0.1:{leaf_port}"),
            database_url: postgres.url("edgeops"),
            hub_launcher,
            hub: tokio::sync::Mutex::new(Some(hub)),
            leaf,
            postgres,
            dir,
        })
    }

    pub async fn stop(self) {
        self.leaf.stop().await;
        if let Some(hub) = self.hub.lock().await.take() {
            hub.stop().await;
        }
        self.postgres.stop().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
