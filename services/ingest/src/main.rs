use clap::Parser;
use edgeops_ingest::IngestConfig;

/// edgeops ingest: validates readings that reached the hub and writes them to Postgres.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    config: IngestConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry = edgeops_telemetry::init("ingest")?;
    let result =
        edgeops_ingest::run(cli.config, edgeops_telemetry::lifecycle::shutdown_signal()).await;
    if let Err(err) = &result {
        tracing::error!(error = format!("{err:#}"), "ingest failed");
    }
    result
}
