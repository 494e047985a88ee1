use clap::Parser;
use edgeops_preprocessing::PreprocessingConfig;

/// edgeops preprocessing: cleans, resamples and turns readings into feature rows.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    config: PreprocessingConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry = edgeops_telemetry::init("preprocessing")?;
    let result =
        edgeops_preprocessing::run(cli.config, edgeops_telemetry::lifecycle::shutdown_signal())
            .await;
    if let Err(err) = &result {
        tracing::error!(error = format!("{err:#}"), "preprocessing failed");
    }
    result
}
