//! What the fleet looks like to a selector: the registered sites (with their tags, from the
//! sites bucket), the devices seen at each site and when their readings last reached the hub
//! (from ingest's readings, read only). Whether that makes a device live is the domain's rule
//! (`domain::targets::live`); the SQL only fetches.

use async_nats::jetstream::Context;
use chrono::{DateTime, Utc};
use edgeops_contracts::deployment::device_aggregate_id;
use edgeops_contracts::events::SiteRegistered;
use edgeops_contracts::{DeviceId, SiteId, streams};
use futures::{StreamExt, TryStreamExt};
use sqlx::PgPool;

use crate::domain::KnownSite;
use crate::domain::targets::Arrivals;

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("reading the sites bucket: {0}")]
    Sites(String),
    #[error("reading the devices seen: {0}")]
    Postgres(#[from] sqlx::Error),
}

/// Every registered site with its tags. An entry that does not read as a site is skipped.
pub async fn known_sites(js: &Context) -> Result<Vec<KnownSite>, FleetError> {
    let failed = |e: &dyn std::fmt::Display| FleetError::Sites(e.to_string());
    let bucket = js
        .get_key_value(streams::SITES_BUCKET)
        .await
        .map_err(|e| failed(&e))?;
    let keys: Vec<String> = bucket
        .keys()
        .await
        .map_err(|e| failed(&e))?
        .try_collect()
        .await
        .map_err(|e| failed(&e))?;
    let entries = futures::stream::iter(keys)
        .map(|key| {
            let bucket = bucket.clone();
            async move { (bucket.get(key.clone()).await, key) }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    let mut sites = Vec::new();
    for (entry, key) in entries {
        let value = entry.map_err(|e| failed(&e))?;
        match value.map(|v| serde_json::from_slice::<SiteRegistered>(&v)) {
            Some(Ok(site)) => sites.push(KnownSite {
                site: site.site,
                tags: site.tags,
            }),
            Some(Err(err)) => tracing::warn!(%key, error = %err, "skipping an unreadable site"),
            None => {}
        }
    }
    Ok(sites)
}

/// Distinct devices with readings at `site`, by a skip scan of the readings' primary key
/// (one index probe per device, however many readings each has).
const DEVICES_OF_SITE: &str = "
    WITH RECURSIVE seen AS (
        (SELECT device_id FROM ingest.readings_for_deployment WHERE site_id = $1
         ORDER BY device_id LIMIT 1)
        UNION ALL
        SELECT (SELECT r.device_id FROM ingest.readings_for_deployment r
                WHERE r.site_id = $1 AND r.device_id > seen.device_id
                ORDER BY r.device_id LIMIT 1)
        FROM seen WHERE seen.device_id IS NOT NULL
    )
    SELECT device_id FROM seen WHERE device_id IS NOT NULL";

/// The devices seen at each of `sites`.
pub async fn devices_seen(
    pool: &PgPool,
    sites: &[SiteId],
) -> Result<Vec<(SiteId, DeviceId)>, FleetError> {
    let mut devices = Vec::new();
    for site in sites {
        let ids: Vec<String> = sqlx::query_scalar(DEVICES_OF_SITE)
            .bind(site.as_str())
            .fetch_all(pool)
            .await?;
        for id in ids {
            match DeviceId::parse(id.as_str()) {
                Ok(device) => devices.push((site.clone(), device)),
                Err(err) => {
                    tracing::warn!(%site, device = %id, error = %err, "skipping a device id")
                }
            }
        }
    }
    Ok(devices)
}

/// The hub's clock: the one that stamped `ingested_at`, so a window measured from it is not
/// skewed by this service's clock.
pub async fn hub_now(pool: &PgPool) -> Result<DateTime<Utc>, FleetError> {
    Ok(sqlx::query_scalar("SELECT now()").fetch_one(pool).await?)
}

/// Each device's latest arrival at `sites` since `since`. Served by the BRIN index on
/// `ingested_at`: it reads the block ranges written since then, however long the history.
const ARRIVALS_SINCE: &str = "
    SELECT site_id, device_id, max(ingested_at) FROM ingest.readings_for_deployment
    WHERE ingested_at >= $1 AND site_id = ANY($2)
    GROUP BY site_id, device_id";

/// When each device at `sites` last had a reading reach the hub, for arrivals since `since`
/// (a device with none since is absent). Judged on arrival (`ingested_at`), never on the
/// sensor's `observed_at`: backfills and simulated time say nothing about a device now.
pub async fn arrivals_since(
    pool: &PgPool,
    sites: &[SiteId],
    since: DateTime<Utc>,
) -> Result<Arrivals, FleetError> {
    let names: Vec<&str> = sites.iter().map(SiteId::as_str).collect();
    let rows: Vec<(String, String, DateTime<Utc>)> = sqlx::query_as(ARRIVALS_SINCE)
        .bind(since)
        .bind(&names)
        .fetch_all(pool)
        .await?;
    let mut arrivals = Arrivals::new();
    for (site, device, at) in rows {
        match (
            SiteId::parse(site.as_str()),
            DeviceId::parse(device.as_str()),
        ) {
            (Ok(site), Ok(device)) => {
                arrivals.insert(device_aggregate_id(&site, &device), at);
            }
            _ => tracing::warn!(%site, %device, "skipping an unreadable site or device id"),
        }
    }
    Ok(arrivals)
}
