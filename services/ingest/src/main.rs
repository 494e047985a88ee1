use clap::Parser;
use edgeops_ingest::IngestConfig;

/// edgeops ingest: validates readings that reached the hub and writes them to Postgres.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    config: IngestConfig,
}

fn main() -> anyhow::Result<()> {
    edgeops_service_host::main("ingest", |cli: Cli, stop| {
        edgeops_ingest::run(cli.config, stop)
    })
}
