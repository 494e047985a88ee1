use clap::Parser;
use edgeops_deployment::DeploymentConfig;
use edgeops_service_host::Command;

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

fn main() -> anyhow::Result<()> {
    edgeops_service_host::main("deployment", |cli: Cli, stop| async move {
        match cli.command.unwrap_or_default() {
            Command::Serve => edgeops_deployment::run(cli.config, stop).await,
            Command::RebuildProjection => {
                let report = edgeops_deployment::rebuild_projection(&cli.config).await?;
                edgeops_service_host::rebuilt(report.applied, report.skipped);
                Ok(())
            }
        }
    })
}
