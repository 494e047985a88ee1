use clap::Parser;
use edgeops_monitoring::MonitoringConfig;
use edgeops_service_host::Command;

/// edgeops monitoring: live forecast error, drift and data quality for every model in the
/// field, from the gateways' window summaries.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    config: MonitoringConfig,
    #[command(subcommand)]
    command: Option<Command>,
}

fn main() -> anyhow::Result<()> {
    edgeops_service_host::main("monitoring", |cli: Cli, stop| async move {
        match cli.command.unwrap_or_default() {
            Command::Serve => edgeops_monitoring::run(cli.config, stop).await,
            Command::RebuildProjection => {
                let report = edgeops_monitoring::rebuild_projection(&cli.config).await?;
                edgeops_service_host::rebuilt(report.applied, report.skipped);
                Ok(())
            }
        }
    })
}
