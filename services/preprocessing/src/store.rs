//! preprocessing's tables: its own copy of the samples, and the feature rows.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use edgeops_contracts::Reading;
use edgeops_features::{FeatureRow, FeatureSpec};
use edgeops_store::sqlx::{self, PgPool, Postgres, Transaction};

/// Stores samples; one per (site, device, ts), so redelivery adds nothing.
pub async fn insert_samples(pool: &PgPool, readings: &[Reading]) -> Result<(), sqlx::Error> {
    if readings.is_empty() {
        return Ok(());
    }
    let sites: Vec<&str> = readings.iter().map(|r| r.site.as_str()).collect();
    let devices: Vec<&str> = readings.iter().map(|r| r.device.as_str()).collect();
    let times: Vec<DateTime<Utc>> = readings.iter().map(|r| r.ts).collect();
    let metrics: Vec<serde_json::Value> = readings
        .iter()
        .map(|r| serde_json::to_value(&r.metrics).unwrap_or_default())
        .collect();
    sqlx::query(
        "INSERT INTO preprocessing.samples (site_id, device_id, observed_at, metrics)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::jsonb[])
         ON CONFLICT DO NOTHING",
    )
    .bind(&sites)
    .bind(&devices)
    .bind(&times)
    .bind(&metrics)
    .execute(pool)
    .await?;
    Ok(())
}

/// Serialises recomputations of one device across workers and replicas, until the transaction ends.
pub async fn lock_device(
    tx: &mut Transaction<'_, Postgres>,
    site: &str,
    device: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))")
        .bind(site)
        .bind(device)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A device's samples from `from` on, per metric, in time order.
pub async fn load_samples(
    tx: &mut Transaction<'_, Postgres>,
    site: &str,
    device: &str,
    from: DateTime<Utc>,
) -> Result<BTreeMap<String, Vec<(DateTime<Utc>, f64)>>, sqlx::Error> {
    let rows: Vec<(DateTime<Utc>, serde_json::Value)> = sqlx::query_as(
        "SELECT observed_at, metrics FROM preprocessing.samples
         WHERE site_id = $1 AND device_id = $2 AND observed_at >= $3 ORDER BY observed_at",
    )
    .bind(site)
    .bind(device)
    .bind(from)
    .fetch_all(&mut **tx)
    .await?;
    let mut series: BTreeMap<String, Vec<(DateTime<Utc>, f64)>> = BTreeMap::new();
    for (ts, metrics) in rows {
        let Some(object) = metrics.as_object() else {
            continue;
        };
        for (metric, value) in object {
            if let Some(v) = value.as_f64() {
                series.entry(metric.clone()).or_default().push((ts, v));
            }
        }
    }
    Ok(series)
}

/// Replaces a device's rows from `from` on with `rows`.
pub async fn replace_rows(
    tx: &mut Transaction<'_, Postgres>,
    spec: &FeatureSpec,
    site: &str,
    device: &str,
    from: DateTime<Utc>,
    rows: &[FeatureRow],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM preprocessing.features
         WHERE site_id = $1 AND device_id = $2 AND spec_name = $3 AND spec_version = $4 AND bin_start >= $5",
    )
    .bind(site)
    .bind(device)
    .bind(&spec.name)
    .bind(spec.version as i32)
    .bind(from)
    .execute(&mut **tx)
    .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let times: Vec<DateTime<Utc>> = rows.iter().map(|r| r.ts).collect();
    let values: Vec<serde_json::Value> = rows.iter().map(|r| serde_json::json!(r.values)).collect();
    let interpolated: Vec<bool> = rows.iter().map(|r| r.interpolated).collect();
    sqlx::query(
        "INSERT INTO preprocessing.features (site_id, device_id, spec_name, spec_version, bin_start, features, interpolated)
         SELECT $1, $2, $3, $4, t, ARRAY(SELECT jsonb_array_elements_text(v)::float8), i
         FROM UNNEST($5::timestamptz[], $6::jsonb[], $7::bool[]) AS u(t, v, i)",
    )
    .bind(site)
    .bind(device)
    .bind(&spec.name)
    .bind(spec.version as i32)
    .bind(&times)
    .bind(&values)
    .bind(&interpolated)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
