use clap::Parser;
use edgeops_edge_gateway::GatewayConfig;

/// edgeops edge gateway: keeps a site's raw readings locally and forwards them to the hub.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    config: GatewayConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry = edgeops_telemetry::init("gateway")?;
    let result =
        edgeops_edge_gateway::run(cli.config, edgeops_telemetry::lifecycle::shutdown_signal())
            .await;
    if let Err(err) = &result {
        tracing::error!(error = format!("{err:#}"), "edge gateway failed");
    }
    result
}
