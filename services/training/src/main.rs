use clap::Parser;
use edgeops_training::TrainingConfig;

/// edgeops training: trains forecast models on feature rows and exports them to ONNX.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    config: TrainingConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry = edgeops_telemetry::init("training")?;
    let result =
        edgeops_training::run(cli.config, edgeops_telemetry::lifecycle::shutdown_signal()).await;
    if let Err(err) = &result {
        tracing::error!(error = format!("{err:#}"), "training failed");
    }
    result
}
