//! Keeps `KnownSites` in step with the `edgeops_sites` KV bucket.

use async_nats::jetstream::kv::{Operation, Store};
use edgeops_contracts::SiteId;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::domain::sites::KnownSites;

/// Loads every registered site, then follows changes until `shutdown`.
pub async fn follow_sites(
    bucket: Store,
    sites: KnownSites,
    shutdown: CancellationToken,
) -> Result<(), async_nats::Error> {
    let mut watch = bucket.watch_with_history(">").await?;
    loop {
        let entry = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            entry = watch.next() => entry,
        };
        let Some(entry) = entry else { return Ok(()) };
        let entry = entry?;
        let Ok(site) = SiteId::parse(entry.key.clone()) else {
            tracing::warn!(
                key = entry.key,
                "ignoring a sites bucket key that is not a valid site id"
            );
            continue;
        };
        match entry.operation {
            Operation::Put => {
                tracing::info!(%site, "site registered");
                sites.insert(site);
            }
            Operation::Delete | Operation::Purge => {
                tracing::info!(%site, "site removed");
                sites.remove(&site);
            }
        }
    }
}
