//! Reading the feature rows preprocessing publishes in Postgres (its read model for training).

use chrono::{DateTime, Utc};
use edgeops_contracts::training::Scope;
use edgeops_features::{FeatureRow, FeatureSpec};
use edgeops_ml::DeviceRows;
use edgeops_store::sqlx::{self, PgPool};

/// A stored feature row with its device: (site, device, bin start, values, interpolated).
type StoredRow = (String, String, DateTime<Utc>, Vec<f64>, bool);

/// The (site, device) pairs a scope names, as filters: `None` = any.
fn filters(scope: &Scope) -> (Vec<String>, Vec<Option<String>>) {
    match scope {
        Scope::Site { site } => (vec![site.to_string()], vec![None]),
        Scope::Device { site, device } => (vec![site.to_string()], vec![Some(device.to_string())]),
        Scope::Group { devices, .. } => devices
            .iter()
            .map(|(site, device)| (site.to_string(), Some(device.to_string())))
            .unzip(),
    }
}

/// Feature rows of the scope's devices for `spec` (this version only) in `[from, to)`.
pub async fn load_rows(
    pool: &PgPool,
    scope: &Scope,
    spec: &FeatureSpec,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<DeviceRows>, sqlx::Error> {
    let (sites, devices) = filters(scope);
    let rows: Vec<StoredRow> = sqlx::query_as(
        "SELECT f.site_id, f.device_id, f.bin_start, f.features, f.interpolated
         FROM preprocessing.features_for_training f
         JOIN UNNEST($1::text[], $2::text[]) AS s(site_id, device_id)
           ON f.site_id = s.site_id AND (s.device_id IS NULL OR f.device_id = s.device_id)
         WHERE f.spec_name = $3 AND f.spec_version = $4
           AND ($5::timestamptz IS NULL OR f.bin_start >= $5)
           AND ($6::timestamptz IS NULL OR f.bin_start < $6)
         ORDER BY f.site_id, f.device_id, f.bin_start",
    )
    .bind(&sites)
    .bind(&devices)
    .bind(&spec.name)
    .bind(spec.version as i32)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    let mut out: Vec<DeviceRows> = Vec::new();
    for (site, device, ts, values, interpolated) in rows {
        let name = format!("{site}/{device}");
        if out.last().is_none_or(|last| last.device != name) {
            out.push(DeviceRows {
                device: name,
                rows: Vec::new(),
            });
        }
        if let Some(last) = out.last_mut() {
            last.rows.push(FeatureRow {
                ts,
                values,
                interpolated,
            });
        }
    }
    Ok(out)
}

/// How many feature rows the scope has for `spec`: the data-volume trigger's measure.
pub async fn count_rows(
    pool: &PgPool,
    scope: &Scope,
    spec: &FeatureSpec,
) -> Result<u64, sqlx::Error> {
    let (sites, devices) = filters(scope);
    let (count,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM preprocessing.features_for_training f
         JOIN UNNEST($1::text[], $2::text[]) AS s(site_id, device_id)
           ON f.site_id = s.site_id AND (s.device_id IS NULL OR f.device_id = s.device_id)
         WHERE f.spec_name = $3 AND f.spec_version = $4",
    )
    .bind(&sites)
    .bind(&devices)
    .bind(&spec.name)
    .bind(spec.version as i32)
    .fetch_one(pool)
    .await?;
    Ok(count.max(0) as u64)
}
