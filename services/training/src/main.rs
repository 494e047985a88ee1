use clap::Parser;
use edgeops_training::TrainingConfig;

/// edgeops training: trains forecast models on feature rows and exports them to ONNX.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    config: TrainingConfig,
}

fn main() -> anyhow::Result<()> {
    edgeops_service_host::main("training", |cli: Cli, stop| {
        edgeops_training::run(cli.config, stop)
    })
}
