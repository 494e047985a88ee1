//! The minimal join the gates need: forecasts stored from the hub's `FORECASTS` stream, each
//! matched with the device's latest actual reading of the same metric at or before the
//! forecast's target time (within a tolerance), summed per device, version and side of the
//! wave's start. [`crate::domain::evidence`] turns the sums into live errors.

use chrono::{DateTime, Utc};
use edgeops_contracts::deployment::{Forecast, ForecastKind};
use sqlx::PgPool;

use crate::domain::{DeviceKey, ErrorRow, parse_device_key};

const ERROR_ROWS: &str = "
    SELECT f.site_id, f.device_id, f.version, f.received_at >= $5 AS since_wave,
           count(a.actual) AS forecasts, sum((f.value - a.actual) ^ 2) AS sum_sq
    FROM unnest($1::text[], $2::text[]) AS t(site_id, device_id)
    JOIN deployment.forecasts f
      ON f.site_id = t.site_id AND f.device_id = t.device_id AND f.received_at >= $4
    CROSS JOIN LATERAL (
        SELECT (r.metrics ->> f.metric)::float8 AS actual
        FROM ingest.readings r
        WHERE r.site_id = f.site_id AND r.device_id = f.device_id
          AND r.observed_at <= f.target_at
          AND r.observed_at > f.target_at - make_interval(secs => $6)
          AND r.metrics ? f.metric
        ORDER BY r.observed_at DESC
        LIMIT 1
    ) a
    WHERE f.model = $3 OR f.version = 0
    GROUP BY 1, 2, 3, 4";

/// The joined sums for `targets`' forecasts of `model` (and persistence) received since
/// `window_start`, split at `wave_start`.
pub async fn error_rows(
    pool: &PgPool,
    model: &str,
    targets: &[DeviceKey],
    window_start: DateTime<Utc>,
    wave_start: DateTime<Utc>,
    tolerance_secs: u64,
) -> Result<Vec<ErrorRow>, sqlx::Error> {
    let (sites, devices): (Vec<String>, Vec<String>) = targets
        .iter()
        .filter_map(|key| parse_device_key(key))
        .map(|(s, d)| (s.to_string(), d.to_string()))
        .unzip();
    let rows: Vec<(String, String, i32, bool, i64, Option<f64>)> = sqlx::query_as(ERROR_ROWS)
        .bind(&sites)
        .bind(&devices)
        .bind(model)
        .bind(window_start)
        .bind(wave_start)
        .bind(tolerance_secs as f64)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(site, device, version, since_wave, forecasts, sum_sq)| {
            Some(ErrorRow {
                device: format!("{site}:{device}"),
                version: u32::try_from(version).ok()?,
                since_wave,
                forecasts: u64::try_from(forecasts).ok()?,
                // NaN when an actual value is not a number: the group is not counted.
                sum_sq: sum_sq.filter(|s| s.is_finite())?,
            })
        })
        .collect())
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
