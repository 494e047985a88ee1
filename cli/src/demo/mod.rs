//! `edgeops demo`: the whole loop on this machine, with nothing but the bootstrap's tools.
//!
//! 1. start a hub nats-server and one site's leaf nats-server (linked), and Postgres;
//! 2. provision the hub, register the site, run ingest and the site's edge gateway;
//! 3. publish simulated room readings at the site (plus a few malformed ones);
//! 4. show them arriving in Postgres, and the malformed ones in the dead-letter stream;
//! 5. stop everything cleanly.

mod processes;
mod report;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use edgeops_contracts::{SiteId, streams};
use edgeops_edge_gateway::GatewayConfig;
use edgeops_edge_gateway::forward::ForwarderStats;
use edgeops_ingest::IngestConfig;
use tokio_util::sync::CancellationToken;

use crate::nats_config::{Listen, hub_config, leaf_config};
use processes::{NatsProcess, PostgresContainer, free_port, nats_server_binary};

#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Site id of the simulated building.
    #[arg(long, default_value = "s1")]
    pub site: String,
    /// Rooms (sensor boxes) in the building.
    #[arg(long, default_value_t = 12)]
    pub devices: usize,
    /// Readings to publish in total.
    #[arg(long, default_value_t = 6_000)]
    pub readings: u64,
    /// Publish rate, readings per second (0 = as fast as possible).
    #[arg(long, default_value_t = 1_000)]
    pub rate: u32,
    /// Keep the temporary directory (configs, server logs, JetStream data) after the demo.
    #[arg(long)]
    pub keep: bool,
}

/// A few readings a broken sensor or a typo would produce; ingest must dead-letter each.
const MALFORMED: &[(&str, &str)] = &[
    (
        "room-001",
        r#"{"ts":"2026-01-01T00:00:00Z","metrics":{"co2_ppm":NaN}}"#,
    ),
    (
        "room-002",
        r#"{"ts":"2026-01-01T00:00:00Z","metrics":{"humidity_pct":180}}"#,
    ),
    ("room-003", r#"{"metrics":{"co2_ppm":500}}"#),
    (
        "room-004",
        r#"{"ts":"2026-01-01T00:00:00Z","metrics":{"temperature_f":70}}"#,
    ),
];

pub async fn run(
    args: DemoArgs,
    interrupted: impl std::future::Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let site = SiteId::parse(args.site.clone())?;
    let binary = nats_server_binary()?;
    let dir = std::env::temp_dir().join(format!("edgeops-demo-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir)?;
    report::step(&format!("working directory {}", dir.display()));

    let (hub_port, hub_monitor, leaf_link_port, leaf_port, leaf_monitor, mqtt_port) = (
        free_port()?,
        free_port()?,
        free_port()?,
        free_port()?,
        free_port()?,
        free_port()?,
    );
    let listen = |client_port, monitor_port, store: &str| Listen {
        host: "127.0.0.1".into(),
        client_port,
        monitor_port,
        store_dir: dir.join(store).display().to_string(),
        max_file_store: "20GB".into(),
        mqtt_port,
    };
    std::fs::write(
        dir.join("hub.conf"),
        hub_config(
            "hub",
            &listen(hub_port, hub_monitor, "hub-js"),
            leaf_link_port,
        ),
    )?;
    std::fs::write(
        dir.join("leaf.conf"),
        leaf_config(
            &site,
            &listen(leaf_port, leaf_monitor, "leaf-js"),
            &format!("nats-leaf://127.0.0.1:{leaf_link_port}"),
        ),
    )?;

    let hub = NatsProcess::start(
        &binary,
        "hub",
        &dir.join("hub.conf"),
        hub_port,
        &dir.join("hub.log"),
    )
    .await?;
    report::step(&format!(
        "hub nats-server on 127.0.0.1:{hub_port} (monitor http://127.0.0.1:{hub_monitor})"
    ));
    let leaf = NatsProcess::start(
        &binary,
        "leaf",
        &dir.join("leaf.conf"),
        leaf_port,
        &dir.join("leaf.log"),
    )
    .await?;
    report::step(&format!(
        "site {site} leaf nats-server on 127.0.0.1:{leaf_port}, JetStream domain edge-{site}"
    ));
    let postgres =
        PostgresContainer::start(&format!("edgeops-demo-pg-{}", std::process::id())).await?;

    let outcome = run_loop(&args, &site, &hub_port, leaf_port, &postgres, interrupted).await;

    report::step("stopping: gateway and ingest drained; now NATS and Postgres");
    leaf.stop().await;
    hub.stop().await;
    postgres.stop().await;
    if args.keep {
        report::step(&format!("kept {}", dir.display()));
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    outcome
}

async fn run_loop(
    args: &DemoArgs,
    site: &SiteId,
    hub_port: &u16,
    leaf_port: u16,
    postgres: &PostgresContainer,
    interrupted: impl std::future::Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    postgres
        .create_database("edgeops")
        .await
        .context("preparing Postgres")?;
    let database_url = postgres.url("edgeops");
    report::step(&format!(
        "Postgres (container {}) on 127.0.0.1:{}",
        postgres.name, postgres.port
    ));
    let hub_url = format!("nats://127.0.0.1:{hub_port}");
    let leaf_url = format!("nats://127.0.0.1:{leaf_port}");

    let hub_client = edgeops_bus::connect(&hub_url, "edgeops-demo").await?;
    let hub_js = async_nats::jetstream::with_domain(hub_client.clone(), streams::HUB_DOMAIN);
    edgeops_bus::provision(
        &hub_js,
        &edgeops_bus::topology::hub_topology(&Default::default()),
    )
    .await?;
    let registered = edgeops_contracts::events::SiteRegistered {
        site: site.clone(),
        display_name: format!("Demo building {site}"),
        tags: vec!["demo".into()],
    };
    edgeops_bus::sites::register_site(
        &hub_js,
        registered,
        edgeops_contracts::Actor::User("demo".into()),
    )
    .await?;
    report::step(&format!("hub provisioned; site {site} registered"));

    let stop = CancellationToken::new();
    let ingest = tokio::spawn(edgeops_ingest::run(
        IngestConfig::local(&hub_url, &database_url),
        stop.clone().cancelled_owned(),
    ));
    let gateway_stats = Arc::new(ForwarderStats::default());
    let gateway = tokio::spawn(edgeops_edge_gateway::startup::run_with_stats(
        GatewayConfig::local(site.clone(), &leaf_url),
        gateway_stats.clone(),
        stop.clone().cancelled_owned(),
    ));
    let pool = edgeops_store::connect(&database_url, 2, Duration::from_secs(10)).await?;
    wait_for_gateway(&leaf_url, site).await?;
    report::step("ingest and the edge gateway are running");

    let started = Instant::now();
    let simulate = crate::commands::simulate::SimulateArgs {
        site: site.to_string(),
        leaf_url: leaf_url.clone(),
        devices: args.devices,
        rate: args.rate,
        count: Some(args.readings),
        step_secs: 60,
    };
    let sensor = edgeops_bus::connect(&leaf_url, "demo-broken-sensor").await?;
    for (device, payload) in MALFORMED {
        sensor
            .publish(format!("edgeops.raw.{site}.{device}"), (*payload).into())
            .await?;
    }
    sensor.flush().await?;
    report::step(&format!(
        "publishing {} simulated readings from {} rooms at the site (+{} malformed)",
        args.readings,
        args.devices,
        MALFORMED.len()
    ));

    let watching = report::watch_progress(&pool, &gateway_stats, args.readings, started);
    let publishing = crate::commands::simulate::run(simulate, std::future::pending());
    tokio::pin!(interrupted);
    let arrived = tokio::select! {
        result = async { let published = publishing.await?; watching.await.map(|rows| (published, rows)) } => Some(result?),
        () = &mut interrupted => None,
    };

    let ingest_status = hub_client
        .request(
            edgeops_contracts::subjects::service_endpoint("ingest", "status"),
            "".into(),
        )
        .await
        .ok()
        .and_then(|reply| serde_json::from_slice(&reply.payload).ok());
    stop.cancel();
    let _ = gateway.await.context("gateway task")?;
    let _ = ingest.await.context("ingest task")?;
    let Some((published, rows)) = arrived else {
        report::step("interrupted");
        return Ok(());
    };
    report::summary(
        &pool,
        &hub_js,
        published,
        rows,
        &gateway_stats,
        started.elapsed(),
        ingest_status,
    )
    .await?;
    if rows != published as i64 {
        bail!("{rows} rows in Postgres for {published} readings published");
    }
    Ok(())
}

/// The gateway provisions the site's stream on start; sensors' readings are kept from then on.
async fn wait_for_gateway(leaf_url: &str, site: &SiteId) -> anyhow::Result<()> {
    let client = edgeops_bus::connect(leaf_url, "demo-probe").await?;
    let js = async_nats::jetstream::with_domain(client, streams::edge_domain(site));
    let deadline = Instant::now() + Duration::from_secs(20);
    while js.get_stream(streams::LOCAL_READINGS).await.is_err() {
        if Instant::now() > deadline {
            bail!("the edge gateway did not create the site's local stream within 20 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}
