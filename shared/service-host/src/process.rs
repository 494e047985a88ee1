//! The `main` of every hub service binary.

use std::future::Future;
use std::pin::Pin;

/// Resolves when the process is asked to stop (SIGTERM or SIGINT).
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Parses the command line, installs telemetry for `service`, runs `run` until it returns (it
/// gets the signal future to stop on), logs a failure with its cause chain, and flushes
/// telemetry before the process exits.
pub fn main<C, F, Fut>(service: &'static str, run: F) -> anyhow::Result<()>
where
    C: clap::Parser,
    F: FnOnce(C, Shutdown) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let cli = C::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        // Dropped at the end of this block, inside the runtime: the exporters flush here.
        let _telemetry = edgeops_telemetry::init(service)?;
        let result = run(
            cli,
            Box::pin(edgeops_telemetry::lifecycle::shutdown_signal()),
        )
        .await;
        if let Err(err) = &result {
            tracing::error!(error = format!("{err:#}"), "{service} failed");
        }
        result
    })
}

/// The subcommands of a service that keeps a Postgres projection of its events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::Subcommand)]
pub enum Command {
    /// Run the service (the default).
    #[default]
    Serve,
    /// Empty the Postgres projection and replay every event of the service's aggregates into it.
    RebuildProjection,
}

/// What `rebuild-projection` prints when it is done.
pub fn rebuilt(applied: impl std::fmt::Display, skipped: impl std::fmt::Display) {
    println!("projection rebuilt: {applied} events applied, {skipped} unreadable skipped");
}
