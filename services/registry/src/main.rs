use clap::Parser;
use edgeops_registry::RegistryConfig;
use edgeops_service_host::Command;

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

fn main() -> anyhow::Result<()> {
    edgeops_service_host::main("registry", |cli: Cli, stop| async move {
        match cli.command.unwrap_or_default() {
            Command::Serve => edgeops_registry::run(cli.config, stop).await,
            Command::RebuildProjection => {
                let report = edgeops_registry::rebuild_projection(&cli.config).await?;
                edgeops_service_host::rebuilt(report.applied, report.skipped);
                Ok(())
            }
        }
    })
}
