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

/// `<service> rebuild-projection`: empties `projection`'s tables and replays every event of its
/// aggregates into them. Safe while the service runs (see `edgeops_eventsourcing::rebuild`).
pub async fn rebuild_projection<P: edgeops_eventsourcing::Projection>(
    service: &str,
    hub: &crate::HubArgs,
    database: &crate::DatabaseArgs,
    projection: &P,
) -> anyhow::Result<edgeops_eventsourcing::RebuildReport> {
    use anyhow::Context as _;
    let (_client, js) = hub.connect(&format!("{service}-rebuild")).await?;
    let pool = database
        .connect_and_migrate(2)
        .await
        .context("preparing Postgres")?;
    let report = edgeops_eventsourcing::rebuild(projection, &pool, &js)
        .await
        .with_context(|| format!("rebuilding the {service} projection"))?;
    pool.close().await;
    Ok(report)
}
