//! Writing readings to `ingest.readings`: one statement per batch, idempotent on the
//! reading's natural key, so redelivery and replays never duplicate a row.

use edgeops_store::sqlx::{self, PgPool};

use crate::domain::batch::Row;

/// Rows written by one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Written {
    pub inserted: u64,
    /// Already present (redelivered or re-forwarded).
    pub duplicates: u64,
}

/// Inserts `rows` in one round trip (UNNEST of column arrays); rows already present are skipped.
pub async fn write_readings(pool: &PgPool, rows: &[Row]) -> Result<Written, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Written::default());
    }
    let mut sites = Vec::with_capacity(rows.len());
    let mut devices = Vec::with_capacity(rows.len());
    let mut observed = Vec::with_capacity(rows.len());
    let mut metrics = Vec::with_capacity(rows.len());
    let mut sequences = Vec::with_capacity(rows.len());
    for row in rows {
        sites.push(row.reading.site.as_str());
        devices.push(row.reading.device.as_str());
        observed.push(row.reading.ts);
        metrics.push(serde_json::to_value(&row.reading.metrics).unwrap_or_default());
        sequences.push(i64::try_from(row.hub_sequence).unwrap_or(i64::MAX));
    }
    let result = sqlx::query(
        "INSERT INTO ingest.readings (site_id, device_id, observed_at, metrics, hub_sequence)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::jsonb[], $5::int8[])
         ON CONFLICT (site_id, device_id, observed_at) DO NOTHING",
    )
    .bind(&sites)
    .bind(&devices)
    .bind(&observed)
    .bind(&metrics)
    .bind(&sequences)
    .execute(pool)
    .await?;
    let inserted = result.rows_affected();
    Ok(Written {
        inserted,
        duplicates: rows.len() as u64 - inserted,
    })
}
