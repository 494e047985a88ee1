use clap::{Parser, Subcommand};
use edgeops_cli::commands::nats_config::NatsConfigCommand;
use edgeops_cli::commands::replay::ReplayArgs;
use edgeops_cli::commands::simulate::SimulateArgs;
use edgeops_cli::commands::site::SiteCommand;
use edgeops_cli::commands::{self, HubArgs};
use edgeops_cli::demo::{self, DemoArgs};
use edgeops_telemetry::lifecycle::shutdown_signal;

/// edgeops: operate an edge MLOps fleet over NATS JetStream.
#[derive(Parser)]
#[command(version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole loop on this machine: hub and site NATS, Postgres, ingest, a gateway,
    /// simulated readings arriving in Postgres; then stop cleanly.
    Demo(DemoArgs),
    /// Create or update the hub's streams, consumers and buckets (idempotent).
    Provision(HubArgs),
    /// Manage sites.
    Site {
        #[command(flatten)]
        hub: HubArgs,
        #[command(subcommand)]
        command: SiteCommand,
    },
    /// Publish simulated room readings at a site, as its sensors would.
    Simulate(SimulateArgs),
    /// Replay a shipped data set (Beijing PM2.5, Birmingham parking) at a site's leaf, or
    /// measure with `--dry-run` what the reduction policy would forward.
    Replay(ReplayArgs),
    /// Train a forecast model: request a run, follow it, show candidates vs persistence.
    Train(edgeops_cli::commands::train::TrainArgs),
    /// Model versions in the registry: list, show, promote through the gates, archive.
    Models(edgeops_cli::commands::models::ModelsArgs),
    /// Roll model versions out to devices: start, pause, resume, cancel, roll back, status.
    Rollout(edgeops_cli::commands::rollout::RolloutArgs),
    /// What monitoring sees of the models in the field: live skill, incidents.
    Monitor(edgeops_cli::commands::monitor::MonitorArgs),
    /// Signing keys for the registry's model manifests.
    Keys {
        #[command(subcommand)]
        command: edgeops_cli::commands::keys::KeysCommand,
    },
    /// Show ingest's counters and the hub's streams.
    Status(HubArgs),
    /// Measure the edge data path's throughput against its baselines (build with --release);
    /// `edgeops bench monitoring` measures monitoring's judged forecasts/s.
    Bench(edgeops_cli::bench::BenchArgs),
    /// Measure training's time and peak memory for 100k and 1M feature rows (build with --release).
    BenchTraining(edgeops_cli::bench::training::TrainBenchArgs),
    /// Print (or write) a nats-server config for the hub or a site's leaf.
    NatsConfig {
        #[command(subcommand)]
        command: NatsConfigCommand,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Every command prints what it has to say; logs (RUST_LOG to see more) are for trouble.
    let _telemetry =
        edgeops_telemetry::init_with_default_filter("cli", edgeops_telemetry::CLI_DEFAULT_FILTER)?;
    match cli.command {
        Command::Demo(args) => demo::run(args, shutdown_signal()).await,
        Command::Provision(hub) => commands::provision::run(&hub).await,
        Command::Site { hub, command } => commands::site::run(&hub, command).await,
        Command::Simulate(args) => {
            let published = commands::simulate::run(args, shutdown_signal()).await?;
            println!("published {published} readings");
            Ok(())
        }
        Command::Replay(args) => commands::replay::run(args, shutdown_signal()).await,
        Command::Status(hub) => commands::status::run(&hub).await,
        Command::Train(args) => commands::train::run(args).await,
        Command::Models(args) => commands::models::run(args).await,
        Command::Rollout(args) => commands::rollout::run(args).await,
        Command::Monitor(args) => commands::monitor::run(args).await,
        Command::Keys { command } => commands::keys::run(command),
        Command::NatsConfig { command } => commands::nats_config::run(command),
        Command::Bench(args) => edgeops_cli::bench::run(args, shutdown_signal()).await,
        Command::BenchTraining(args) => edgeops_cli::bench::training::run(args),
    }
}
