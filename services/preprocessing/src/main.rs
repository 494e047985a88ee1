use clap::Parser;
use edgeops_preprocessing::PreprocessingConfig;

/// edgeops preprocessing: cleans, resamples and turns readings into feature rows.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    config: PreprocessingConfig,
}

fn main() -> anyhow::Result<()> {
    edgeops_service_host::main("preprocessing", |cli: Cli, stop| {
        edgeops_preprocessing::run(cli.config, stop)
    })
}
