use clap::{Parser, Subcommand};
use edgeops_registry::RegistryConfig;

/// edgeops registry: registers trained models as signed versions and moves them through the
/// promotion gates.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    config: RegistryConfig,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default).
    Serve,
    /// Empty the Postgres projection and replay every model-version event into it.
    RebuildProjection,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry = edgeops_telemetry::init("registry")?;
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            edgeops_registry::run(cli.config, edgeops_telemetry::lifecycle::shutdown_signal()).await
        }
        Command::RebuildProjection => {
            edgeops_registry::rebuild_projection(&cli.config)
                .await
                .map(|report| {
                    println!(
                        "projection rebuilt: {} events applied, {} unreadable skipped",
                        report.applied, report.skipped
                    );
                })
        }
    };
    if let Err(err) = &result {
        tracing::error!(error = format!("{err:#}"), "registry failed");
    }
    result
}
