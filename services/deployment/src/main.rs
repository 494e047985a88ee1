use clap::{Parser, Subcommand};
use edgeops_deployment::DeploymentConfig;

/// edgeops deployment: rolls model versions out to device fleets, canary first, then in waves
/// held to health gates, and rolls them back when a gate fails.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    config: DeploymentConfig,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default).
    Serve,
    /// Empty the Postgres projection and replay every rollout event into it.
    RebuildProjection,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry = edgeops_telemetry::init("deployment")?;
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            edgeops_deployment::run(cli.config, edgeops_telemetry::lifecycle::shutdown_signal())
                .await
        }
        Command::RebuildProjection => edgeops_deployment::rebuild_projection(&cli.config)
            .await
            .map(|report| {
                println!(
                    "projection rebuilt: {} events applied, {} unreadable skipped",
                    report.applied, report.skipped
                );
            }),
    };
    if let Err(err) = &result {
        tracing::error!(error = format!("{err:#}"), "deployment failed");
    }
    result
}
