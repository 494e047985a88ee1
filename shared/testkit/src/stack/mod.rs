//! The one launcher of a local stack: a hub NATS, a leaf NATS per site linked to it, and Postgres
//! with a database made for the run. Two backends share everything but how a server runs:
//!
//! | backend          | runs                                                            | used by            |
//! |------------------|-----------------------------------------------------------------|--------------------|
//! | [`LocalStack`]   | nats-server processes (one site) and a `docker run` Postgres    | the demo, the bench |
//! | [`ContainerStack`] (feature `containers`) | hub, leaves and Postgres in testcontainers, the leaf links on a Docker network that can be cut | the integration tests |
//!
//! What they share lives here: the images, the configs (rendered by [`crate::nats_config`]), the
//! leaf remote URL, creating the run's database, and readying the hub (its topology provisioned,
//! sites registered) as an operator would.

#[cfg(feature = "containers")]
mod containers;
mod local;
mod processes;
#[cfg(feature = "containers")]
mod uplink;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use edgeops_contracts::events::SiteRegistered;
use edgeops_contracts::{Actor, streams};

#[cfg(feature = "containers")]
pub use containers::{ContainerStack, Leaf};
pub use local::{LocalStack, StackOptions};
pub use processes::{
    INGEST_SETTINGS, NatsLauncher, NatsProcess, PostgresContainer, free_port, nats_server_binary,
};
#[cfg(feature = "containers")]
pub use uplink::Uplink;

/// The locally built images (`infra/scripts/bootstrap.sh`; no registry is reachable).
pub const NATS_IMAGE: (&str, &str) = ("edgeops/nats", "2.15.1");
pub const POSTGRES_IMAGE: (&str, &str) = ("edgeops/postgres", "15");

/// `name:tag` of an image.
pub fn image_reference(image: (&str, &str)) -> String {
    format!("{}:{}", image.0, image.1)
}

/// The port the hub listens on for leaf connections inside a container.
pub const LEAF_LINK_PORT: u16 = 7422;

/// The URL a leaf server dials to reach the hub's leaf listener.
pub fn leaf_remote(host: &str, port: u16) -> String {
    format!("nats-leaf://{host}:{port}")
}

/// `postgres://` URL of a database on a local Postgres (user and password `postgres`).
pub fn postgres_url(port: u16, database: &str) -> String {
    format!("postgres://postgres:postgres@127.0.0.1:{port}/{database}")
}

/// Waits (up to 30 s) until the Postgres on `port` accepts queries, then creates `database`.
pub async fn create_database(port: u16, database: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let admin = loop {
        match edgeops_store::connect(&postgres_url(port, "postgres"), 1, Duration::from_secs(2))
            .await
        {
            Ok(pool) => break pool,
            Err(err) if Instant::now() > deadline => {
                return Err(err).context("connecting to Postgres as admin");
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    let created = sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&admin)
        .await
        .with_context(|| format!("creating database {database}"));
    admin.close().await;
    created.map(|_| ())
}

/// The hub's JetStream (in the hub's domain), over a new connection named `name`.
pub async fn hub_jetstream(
    hub_url: &str,
    name: &str,
) -> anyhow::Result<async_nats::jetstream::Context> {
    let client = edgeops_bus::connect(hub_url, name).await?;
    Ok(async_nats::jetstream::with_domain(
        client,
        streams::HUB_DOMAIN,
    ))
}

/// Readies the hub as an operator would: provisions its topology and registers `sites`.
pub async fn register_sites(
    js: &async_nats::jetstream::Context,
    sites: impl IntoIterator<Item = SiteRegistered>,
    actor: &Actor,
) -> anyhow::Result<()> {
    edgeops_bus::provision(
        js,
        &edgeops_bus::topology::hub_topology(&Default::default()),
    )
    .await
    .context("provisioning the hub")?;
    for registered in sites {
        let site = registered.site.clone();
        edgeops_bus::sites::register_site(js, registered, actor.clone())
            .await
            .with_context(|| format!("registering {site}"))?;
    }
    Ok(())
}
