//! The data the gates' live error needs, fetched thin: the new version's forecasts stored from
//! the hub's `FORECASTS` stream, and the devices' readings of the forecast metric around their
//! origins and targets (`ingest.readings_for_deployment`, the view ingest publishes for it).
//! Which forecasts are judged, against what, and what the errors show is
//! `edgeops_evaluation`'s, the one definition.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use edgeops_contracts::deployment::{Forecast, ForecastKind};
use edgeops_evaluation::{Comparison, pair_device};
use edgeops_features::FeatureSpec;
use sqlx::PgPool;

use crate::domain::{DeviceKey, parse_device_key};

/// `(site, device)`.
type Device = (String, String);
/// A device's readings of one metric, in time order.
type Samples = Vec<(DateTime<Utc>, f64)>;
/// A stored forecast: site, device, origin, target, value.
type ForecastRow = (String, String, DateTime<Utc>, DateTime<Utc>, f64);

const FORECASTS: &str = "
    SELECT f.site_id, f.device_id, f.origin_at, f.target_at, f.value
    FROM unnest($1::text[], $2::text[]) AS t(site_id, device_id)
    JOIN deployment.forecasts f
      ON f.site_id = t.site_id AND f.device_id = t.device_id AND f.received_at >= $3
    WHERE f.model = $4 AND f.version = $5 AND f.metric = $6
    ORDER BY f.site_id, f.device_id, f.origin_at";

const READINGS: &str = "
    SELECT r.site_id, r.device_id, r.observed_at, (r.metrics -> $4)::float8
    FROM unnest($1::text[], $2::text[], $3::timestamptz[], $5::timestamptz[])
         AS t(site_id, device_id, since, until)
    JOIN ingest.readings_for_deployment r
      ON r.site_id = t.site_id AND r.device_id = t.device_id
     AND r.observed_at >= t.since AND r.observed_at < t.until
    WHERE jsonb_typeof(r.metrics -> $4) = 'number'
    ORDER BY r.site_id, r.device_id, r.observed_at";

/// What the gate judges a version by: `devices`' forecasts of `model` `version` received since
/// `since`, paired with persistence by the rules of `spec` (the version's feature spec).
pub async fn live_comparison(
    pool: &PgPool,
    spec: &FeatureSpec,
    model: &str,
    version: u32,
    devices: &[DeviceKey],
    since: DateTime<Utc>,
) -> Result<Comparison, sqlx::Error> {
    let (sites, names): (Vec<String>, Vec<String>) = devices
        .iter()
        .filter_map(|key| parse_device_key(key))
        .map(|(s, d)| (s.to_string(), d.to_string()))
        .unzip();
    let rows: Vec<ForecastRow> = sqlx::query_as(FORECASTS)
        .bind(&sites)
        .bind(&names)
        .bind(since)
        .bind(model)
        .bind(i32::try_from(version).unwrap_or(i32::MAX))
        .bind(&spec.target)
        .fetch_all(pool)
        .await?;
    let mut forecasts: BTreeMap<Device, Vec<edgeops_evaluation::Forecast>> = BTreeMap::new();
    for (site, device, origin, target, value) in rows {
        forecasts
            .entry((site, device))
            .or_default()
            .push(edgeops_evaluation::Forecast {
                origin,
                target,
                value,
            });
    }
    let samples = readings(pool, spec, &forecasts).await?;
    let pairings: Vec<_> = forecasts
        .iter()
        .map(|(key, forecasts)| {
            let samples = samples.get(key).map_or(&[][..], Vec::as_slice);
            pair_device(spec, samples, forecasts)
        })
        .collect();
    Ok(Comparison::of(&pairings))
}

/// Each device's readings of the target metric that its forecasts' origin and target bins
/// depend on: from the spec's reach before the first origin (gap filling, outlier window) to
/// as far after the last target.
async fn readings(
    pool: &PgPool,
    spec: &FeatureSpec,
    forecasts: &BTreeMap<Device, Vec<edgeops_evaluation::Forecast>>,
) -> Result<BTreeMap<Device, Samples>, sqlx::Error> {
    let reach_bins = i64::try_from(spec.reach_bins() + 1).unwrap_or(i64::MAX / 4);
    let reach = Duration::seconds(spec.interval_secs.saturating_mul(reach_bins));
    let (mut sites, mut devices, mut since, mut until) = (vec![], vec![], vec![], vec![]);
    for ((site, device), list) in forecasts {
        let (Some(first), Some(last)) = (
            list.iter().map(|f| f.origin).min(),
            list.iter().map(|f| f.target).max(),
        ) else {
            continue;
        };
        sites.push(site.clone());
        devices.push(device.clone());
        since.push(first - reach);
        until.push(last + reach);
    }
    let rows: Vec<(String, String, DateTime<Utc>, f64)> = sqlx::query_as(READINGS)
        .bind(&sites)
        .bind(&devices)
        .bind(&since)
        .bind(&spec.target)
        .bind(&until)
        .fetch_all(pool)
        .await?;
    let mut samples: BTreeMap<Device, Samples> = BTreeMap::new();
    for (site, device, at, value) in rows {
        samples.entry((site, device)).or_default().push((at, value));
    }
    Ok(samples)
}

/// Forecasts column by column, for one `unnest` insert.
#[derive(Default)]
struct Columns {
    sites: Vec<String>,
    devices: Vec<String>,
    metrics: Vec<String>,
    origins: Vec<DateTime<Utc>>,
    targets: Vec<DateTime<Utc>>,
    models: Vec<String>,
    versions: Vec<i32>,
    values: Vec<f64>,
}

/// Stores forecasts; one already stored (redelivery) is skipped.
pub async fn store_forecasts(pool: &PgPool, forecasts: &[Forecast]) -> Result<u64, sqlx::Error> {
    let mut c = Columns::default();
    for f in forecasts {
        let (model, version) = match f.kind {
            ForecastKind::Persistence => (String::new(), 0),
            ForecastKind::Model => (
                f.model.clone().unwrap_or_default(),
                f.version
                    .and_then(|v| i32::try_from(v).ok())
                    .unwrap_or_default(),
            ),
        };
        c.sites.push(f.site.to_string());
        c.devices.push(f.device.to_string());
        c.metrics.push(f.metric.clone());
        c.origins.push(f.ts);
        c.targets.push(f.valid_at);
        c.models.push(model);
        c.versions.push(version);
        c.values.push(f.value);
    }
    let done = sqlx::query(
        "INSERT INTO deployment.forecasts
             (site_id, device_id, metric, origin_at, target_at, model, version, value)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[],
                              $5::timestamptz[], $6::text[], $7::int4[], $8::float8[])
         ON CONFLICT DO NOTHING",
    )
    .bind(&c.sites)
    .bind(&c.devices)
    .bind(&c.metrics)
    .bind(&c.origins)
    .bind(&c.targets)
    .bind(&c.models)
    .bind(&c.versions)
    .bind(&c.values)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes forecasts received more than `hours` ago.
pub async fn prune_forecasts(pool: &PgPool, hours: u64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM deployment.forecasts WHERE received_at < now() - make_interval(hours => $1)",
    )
    .bind(i32::try_from(hours).unwrap_or(i32::MAX))
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
