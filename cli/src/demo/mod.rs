//! `edgeops demo`: the whole loop on this machine, with nothing but the bootstrap's tools.
//!
//! 1. start a hub nats-server and one site's leaf nats-server (linked), and Postgres;
//! 2. provision the hub, register the site, run ingest and the site's edge gateway with the
//!    default reduction policy;
//! 3. publish simulated room readings at the site (plus a few malformed ones);
//! 4. take the hub down for a few seconds mid-run (an uplink outage, as the site sees it) and
//!    bring it back: the site keeps storing, then drains its backlog;
//! 5. show what arrived in Postgres (readings, aggregates, feature rows), the forwarded/raw
//!    byte ratio, and the dead letters;
//! 6. train a first CO2 model for the site against persistence; the registry registers and
//!    signs it, the demo verifies the manifest as a gateway would and promotes it to prod;
//! 7. live: the rooms go on while deployment rolls the model out to every room (canary, then
//!    waves, gated on acks and live forecast error), then catches a broken version at the
//!    canary and rolls it back;
//! 8. stop everything cleanly.

mod broken_model;
mod live;
mod ml;
mod registry;
mod report;
mod rollout;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use edgeops_contracts::{DeviceId, SiteId, streams, subjects};
use edgeops_edge_gateway::GatewayConfig;
use edgeops_edge_gateway::forward::ForwarderStats;
use edgeops_ingest::IngestConfig;
use tokio_util::sync::CancellationToken;

use edgeops_testkit::stack::{
    INGEST_SETTINGS, LocalStack, NatsLauncher, NatsProcess, StackOptions, hub_jetstream,
    register_sites,
};

#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Site id of the simulated building.
    #[arg(long, default_value = "s1")]
    pub site: String,
    /// Rooms (sensor boxes) in the building.
    #[arg(long, default_value_t = 12)]
    pub devices: usize,
    /// Readings to publish in total (the default gives each room two simulated days, enough
    /// daily cycles for the model step to learn from).
    #[arg(long, default_value_t = 36_000)]
    pub readings: u64,
    /// Publish rate, readings per second (0 = as fast as possible).
    #[arg(long, default_value_t = 3_000)]
    pub rate: u32,
    /// Seconds the hub is down mid-run, to show store-and-forward (0 = no outage).
    #[arg(long, default_value_t = 4)]
    pub outage_secs: u64,
    /// Reduction policy of the site's gateway: `default`, `forward-all`, or a JSON file.
    #[arg(long, default_value = "default")]
    pub policy: String,
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
    let dir = std::env::temp_dir().join(format!("edgeops-demo-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir)?;
    report::step(&format!("working directory {}", dir.display()));
    let keys = registry::generate_keys(&dir)?;

    let stack = LocalStack::start(StackOptions {
        site: site.clone(),
        dir: dir.clone(),
        max_file_store: "20GB".into(),
        postgres_name: format!("edgeops-demo-pg-{}", std::process::id()),
        // Nothing here outlives the demo.
        postgres_settings: [INGEST_SETTINGS, &["-c", "fsync=off"]].concat(),
        database: "edgeops".into(),
    })
    .await?;
    report::step(&format!(
        "hub nats-server on 127.0.0.1:{} (monitor http://127.0.0.1:{})",
        stack.hub_port, stack.hub_monitor_port
    ));
    report::step(&format!(
        "site {site} leaf nats-server on 127.0.0.1:{} (JetStream domain edge-{site}; MQTT on 127.0.0.1:{})",
        stack.leaf_port, stack.mqtt_port
    ));

    let hub = stack.hub.lock().await.take();
    let (outcome, hub) = match hub {
        Some(hub) => run_loop(&args, &site, &stack, keys, hub, interrupted).await,
        None => (
            Err(anyhow::anyhow!("the hub nats-server is not running")),
            None,
        ),
    };
    *stack.hub.lock().await = hub;

    report::step("stopping: gateway and ingest drained; now NATS and Postgres");
    stack.stop(args.keep).await;
    if args.keep {
        report::step(&format!("kept {}", dir.display()));
    }
    outcome
}

async fn run_loop(
    args: &DemoArgs,
    site: &SiteId,
    stack: &LocalStack,
    keys: registry::DemoKeys,
    hub: NatsProcess,
    interrupted: impl std::future::Future<Output = ()> + Send,
) -> (anyhow::Result<()>, Option<NatsProcess>) {
    let prepared = prepare(args, site, stack).await;
    let (database_url, hub_js) = match prepared {
        Ok(prepared) => prepared,
        Err(err) => return (Err(err), Some(hub)),
    };
    let (hub_url, leaf_url) = (stack.hub_url.clone(), stack.leaf_url.clone());
    let stop = CancellationToken::new();
    let mut ingest_config = IngestConfig::local(&hub_url, &database_url);
    // Deliveries whose acks died with the hub come back after ack_wait: keep the demo brisk.
    ingest_config.ack_wait_secs = 5;
    let ingest = tokio::spawn(edgeops_ingest::run(
        ingest_config,
        stop.clone().cancelled_owned(),
    ));
    let preprocessing = tokio::spawn(edgeops_preprocessing::run(
        edgeops_preprocessing::PreprocessingConfig::local(&hub_url, &database_url),
        stop.clone().cancelled_owned(),
    ));
    let deployment = tokio::spawn(edgeops_deployment::run(
        edgeops_deployment::DeploymentConfig::local(&hub_url, &database_url),
        stop.clone().cancelled_owned(),
    ));
    let training = tokio::spawn(edgeops_training::run(
        edgeops_training::TrainingConfig::local(&hub_url, &database_url),
        stop.clone().cancelled_owned(),
    ));
    let registry = tokio::spawn(edgeops_registry::startup::run_with_key(
        edgeops_registry::RegistryConfig::local(&hub_url, &database_url),
        keys.signing,
        stop.clone().cancelled_owned(),
    ));
    let monitoring = tokio::spawn(edgeops_monitoring::run(
        edgeops_monitoring::MonitoringConfig::local(&hub_url, &database_url),
        stop.clone().cancelled_owned(),
    ));
    let gateway_stats = Arc::new(ForwarderStats::default());
    let mut gateway_config = GatewayConfig::local(site.clone(), &leaf_url);
    gateway_config.policy = args.policy.clone();
    gateway_config.trusted_keys = Some(keys.public_file.clone());
    let gateway = tokio::spawn(edgeops_edge_gateway::startup::run_with_stats(
        gateway_config,
        gateway_stats.clone(),
        stop.clone().cancelled_owned(),
    ));

    let flow = flow(
        args,
        site,
        &leaf_url,
        &stack.hub_launcher,
        hub,
        &database_url,
        &gateway_stats,
    );
    tokio::pin!(interrupted);
    let (result, hub) = tokio::select! {
        (result, hub) = flow => (result, hub),
        () = &mut interrupted => (Ok(None), None),
    };
    let ingest_status = edgeops_bus::connect(&hub_url, "edgeops-demo-status")
        .await
        .ok()
        .map(|client| async move {
            client
                .request(
                    edgeops_contracts::subjects::service_endpoint("ingest", "status"),
                    "".into(),
                )
                .await
        });
    let ingest_status = match ingest_status {
        Some(request) => request
            .await
            .ok()
            .and_then(|reply| serde_json::from_slice(&reply.payload).ok()),
        None => None,
    };
    let outcome = match result {
        Ok(Some(summary)) => match report::summary(&summary, &hub_js, ingest_status).await {
            Ok(()) => {
                let done = models(&hub_js, site, &keys.public_file, args, &leaf_url).await;
                report::monitoring(&hub_url).await;
                let monitor = format!("http://127.0.0.1:{}", stack.leaf_monitor_port);
                report::leaf_link(&monitor, &gateway_stats).await;
                done
            }
            Err(err) => Err(err),
        },
        Ok(None) => {
            report::step("interrupted");
            Ok(())
        }
        Err(err) => Err(err),
    };
    stop.cancel();
    let _ = gateway.await;
    let _ = ingest.await;
    let _ = preprocessing.await;
    let _ = training.await;
    let _ = registry.await;
    let _ = deployment.await;
    let _ = monitoring.await;
    (outcome, hub)
}

/// Trains the first model, registers, verifies and promotes it, then rolls it out live and
/// shows a broken version caught by the rollout's gate.
async fn models(
    hub_js: &async_nats::jetstream::Context,
    site: &SiteId,
    trusted_keys: &std::path::Path,
    args: &DemoArgs,
    leaf_url: &str,
) -> anyhow::Result<()> {
    let done = ml::train_first_model(hub_js, site).await?;
    registry::register_and_promote(hub_js, &done, trusted_keys).await?;
    live::deploy(hub_js, site, args, leaf_url, &done).await
}

/// Postgres database, hub streams, the site's registration.
async fn prepare(
    args: &DemoArgs,
    site: &SiteId,
    stack: &LocalStack,
) -> anyhow::Result<(String, async_nats::jetstream::Context)> {
    let postgres = &stack.postgres;
    report::step(&format!(
        "Postgres (container {}) on 127.0.0.1:{}",
        postgres.name, postgres.port
    ));
    let hub_js = hub_jetstream(&stack.hub_url, "edgeops-demo").await?;
    let registered = edgeops_contracts::events::SiteRegistered {
        site: site.clone(),
        display_name: format!("Demo building {site}"),
        tags: vec!["demo".into()],
    };
    register_sites(
        &hub_js,
        [registered],
        &edgeops_contracts::Actor::User("demo".into()),
    )
    .await?;
    report::step(&format!(
        "hub provisioned; site {site} registered; gateway policy: {}",
        args.policy
    ));
    Ok((stack.database_url.clone(), hub_js))
}

/// Publishes, takes the hub down and up again mid-run, and waits for everything to arrive.
async fn flow(
    args: &DemoArgs,
    site: &SiteId,
    leaf_url: &str,
    hub_launcher: &NatsLauncher,
    hub: NatsProcess,
    database_url: &str,
    gateway: &Arc<ForwarderStats>,
) -> (anyhow::Result<Option<report::Summary>>, Option<NatsProcess>) {
    let pool = match edgeops_store::connect(database_url, 2, Duration::from_secs(10)).await {
        Ok(pool) => pool,
        Err(err) => return (Err(err.into()), Some(hub)),
    };
    if let Err(err) = wait_for_gateway(leaf_url, site).await {
        return (Err(err), Some(hub));
    }
    report::step("ingest and the edge gateway are running");
    let started = Instant::now();
    let stop_progress = CancellationToken::new();
    let progress = tokio::spawn(report::print_progress(
        pool.clone(),
        gateway.clone(),
        leaf_url.to_owned(),
        site.clone(),
        started,
        stop_progress.clone(),
    ));
    let (published, hub) = tokio::join!(
        publish(args, site, leaf_url),
        outage(args, hub_launcher, hub)
    );
    let result = async {
        let published = published?;
        report::step("all readings published; waiting for the site's backlog to reach Postgres");
        let malformed = MALFORMED.len() as u64;
        let rows = report::wait_for_all(&pool, gateway, published + malformed, malformed).await?;
        Ok(Some(report::Summary {
            published,
            malformed,
            rows,
            elapsed: started.elapsed(),
            gateway: gateway.clone(),
            pool: pool.clone(),
        }))
    }
    .await;
    stop_progress.cancel();
    let _ = progress.await;
    (result, hub)
}

async fn publish(args: &DemoArgs, site: &SiteId, leaf_url: &str) -> anyhow::Result<u64> {
    let sensor = edgeops_bus::connect(leaf_url, "demo-broken-sensor").await?;
    for (device, payload) in MALFORMED {
        sensor
            .publish(
                subjects::raw_reading(site, &DeviceId::parse(*device)?),
                (*payload).into(),
            )
            .await?;
    }
    sensor.flush().await?;
    report::step(&format!(
        "publishing {} simulated readings from {} rooms at the site (+{} malformed)",
        args.readings,
        args.devices,
        MALFORMED.len()
    ));
    let simulate = crate::commands::simulate::SimulateArgs {
        site: site.to_string(),
        leaf_url: leaf_url.to_owned(),
        devices: args.devices,
        rate: args.rate,
        count: Some(args.readings),
        faults: Default::default(),
        step_secs: 60,
        // The last day is kept for the live phase (see `live`).
        ends_ago_secs: live::live_secs(),
        skip: 0,
    };
    crate::commands::simulate::run(simulate, std::future::pending()).await
}

/// Stops the hub a third of the way into publishing and restarts it `outage_secs` later.
async fn outage(args: &DemoArgs, launcher: &NatsLauncher, hub: NatsProcess) -> Option<NatsProcess> {
    if args.outage_secs == 0 || args.rate == 0 {
        return Some(hub);
    }
    let publish_secs = args.readings as f64 / f64::from(args.rate);
    tokio::time::sleep(Duration::from_secs_f64(publish_secs / 3.0)).await;
    report::step(&format!(
        "OUTAGE: the hub is down for {} s; the site keeps storing readings",
        args.outage_secs
    ));
    hub.stop().await;
    tokio::time::sleep(Duration::from_secs(args.outage_secs)).await;
    match launcher.start().await {
        Ok(hub) => {
            report::step("uplink back: the gateway drains the site's backlog");
            Some(hub)
        }
        Err(err) => {
            report::step(&format!("could not restart the hub: {err:#}"));
            None
        }
    }
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
