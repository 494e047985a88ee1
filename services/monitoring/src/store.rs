//! Monitoring's tables (schema `monitoring`): the summaries, keyed by window so each counts
//! once, and the sums the judgements read back.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

use edgeops_contracts::monitoring::{
    FeatureWindow, ModelVersionRef, PairedErrorSums, WindowSummary,
};
use sqlx::{PgPool, Row};

use crate::domain::concept::ConceptState;

/// Stores a summary unless its window is stored already, and moves its device's clock.
/// Returns whether it was new.
///
/// One statement (so one round trip and one commit): the window's row, and only if that was
/// new, the device's clock, the models' error sums and the feature windows. A summary is
/// stored at every delivery's first step, so its cost is the service's throughput.
pub async fn store_summary(pool: &PgPool, summary: &WindowSummary) -> Result<bool, sqlx::Error> {
    let models = &summary.models;
    let features: &[FeatureWindow] = match &summary.features_of {
        Some(_) => &summary.features,
        None => &[],
    };
    // Each feature's counts as an array literal: UNNEST flattens a 2-D array, not text.
    let counts: Vec<String> = features
        .iter()
        .map(|f| {
            let values: Vec<String> = f.counts.iter().map(u64::to_string).collect();
            format!("{{{}}}", values.join(","))
        })
        .collect();
    let inserted: i64 = sqlx::query_scalar(
        "WITH w AS (
             INSERT INTO monitoring.windows
                 (site_id, device_id, window_start, window_secs, readings, last_reading_at,
                  stuck_metrics, summary)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (site_id, device_id, window_start) DO NOTHING
             RETURNING 1
         ), clock AS (
             INSERT INTO monitoring.device_clocks
                 (site_id, device_id, last_reading_at, newest_window)
             SELECT $1, $2, $6, $3 FROM w
             ON CONFLICT (site_id, device_id) DO UPDATE SET
                 last_reading_at = GREATEST(monitoring.device_clocks.last_reading_at,
                                            EXCLUDED.last_reading_at),
                 newest_window = GREATEST(monitoring.device_clocks.newest_window,
                                          EXCLUDED.newest_window)
         ), models AS (
             INSERT INTO monitoring.model_windows
                 (model, version, site_id, device_id, window_start, metric, horizon_bins,
                  judged, unusable, sum_c, sum_b, sum_d_sq)
             SELECT m.model, m.version, $1, $2, $3, m.metric, m.horizon_bins,
                    m.judged, m.unusable, m.sum_c, m.sum_b, m.sum_d_sq
             FROM w, UNNEST($9::text[], $10::int[], $11::text[], $12::int[], $13::bigint[],
                            $14::bigint[], $15::float8[], $16::float8[], $17::float8[])
                  AS m(model, version, metric, horizon_bins, judged, unusable,
                       sum_c, sum_b, sum_d_sq)
             ON CONFLICT DO NOTHING
         ), features AS (
             INSERT INTO monitoring.feature_windows
                 (model, version, site_id, device_id, window_start, feature, counts,
                  below_range, above_range, sum, sum_sq)
             SELECT $18, $19, $1, $2, $3, f.feature, f.counts::bigint[],
                    f.below_range, f.above_range, f.sum, f.sum_sq
             FROM w, UNNEST($20::text[], $21::text[], $22::bigint[], $23::bigint[],
                            $24::float8[], $25::float8[])
                  AS f(feature, counts, below_range, above_range, sum, sum_sq)
             ON CONFLICT DO NOTHING
         )
         SELECT count(*) FROM w",
    )
    .bind(summary.site.as_str())
    .bind(summary.device.as_str())
    .bind(summary.window_start)
    .bind(summary.window_secs as i32)
    .bind(summary.readings as i64)
    .bind(summary.last_reading_at)
    .bind(&summary.stuck_metrics)
    .bind(sqlx::types::Json(summary))
    .bind(models.iter().map(|m| m.model.clone()).collect::<Vec<_>>())
    .bind(models.iter().map(|m| m.version as i32).collect::<Vec<_>>())
    .bind(models.iter().map(|m| m.metric.clone()).collect::<Vec<_>>())
    .bind(
        models
            .iter()
            .map(|m| m.horizon_bins as i32)
            .collect::<Vec<_>>(),
    )
    .bind(
        models
            .iter()
            .map(|m| m.error.judged as i64)
            .collect::<Vec<_>>(),
    )
    .bind(
        models
            .iter()
            .map(|m| m.error.unusable as i64)
            .collect::<Vec<_>>(),
    )
    .bind(models.iter().map(|m| m.error.sum_c).collect::<Vec<_>>())
    .bind(models.iter().map(|m| m.error.sum_b).collect::<Vec<_>>())
    .bind(models.iter().map(|m| m.error.sum_d_sq).collect::<Vec<_>>())
    .bind(summary.features_of.as_ref().map(|of| of.model.clone()))
    .bind(summary.features_of.as_ref().map(|of| of.version as i32))
    .bind(features.iter().map(|f| f.name.clone()).collect::<Vec<_>>())
    .bind(&counts)
    .bind(
        features
            .iter()
            .map(|f| f.below_range as i64)
            .collect::<Vec<_>>(),
    )
    .bind(
        features
            .iter()
            .map(|f| f.above_range as i64)
            .collect::<Vec<_>>(),
    )
    .bind(features.iter().map(|f| f.sum).collect::<Vec<_>>())
    .bind(features.iter().map(|f| f.sum_sq).collect::<Vec<_>>())
    .fetch_one(pool)
    .await?;
    Ok(inserted == 1)
}

/// One device's feature windows of a model version starting in `[from, to)`, per feature.
pub async fn feature_windows(
    pool: &PgPool,
    of: &ModelVersionRef,
    site: &str,
    device: &str,
    span: (DateTime<Utc>, DateTime<Utc>),
) -> Result<BTreeMap<String, Vec<FeatureWindow>>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT feature, counts, below_range, above_range, sum, sum_sq
         FROM monitoring.feature_windows
         WHERE model = $1 AND version = $2 AND site_id = $3 AND device_id = $4
           AND window_start >= $5 AND window_start < $6
         ORDER BY feature, window_start",
    )
    .bind(&of.model)
    .bind(of.version as i32)
    .bind(site)
    .bind(device)
    .bind(span.0)
    .bind(span.1)
    .fetch_all(pool)
    .await?;
    let mut by_feature: BTreeMap<String, Vec<FeatureWindow>> = BTreeMap::new();
    for row in rows {
        let name: String = row.get("feature");
        let counts: Vec<i64> = row.get("counts");
        by_feature
            .entry(name.clone())
            .or_default()
            .push(FeatureWindow {
                name,
                counts: counts.into_iter().map(|c| c.max(0) as u64).collect(),
                below_range: row.get::<i64, _>("below_range").max(0) as u64,
                above_range: row.get::<i64, _>("above_range").max(0) as u64,
                sum: row.get("sum"),
                sum_sq: row.get("sum_sq"),
            });
    }
    Ok(by_feature)
}

/// Which rows [`error_sums`] adds up.
pub struct ErrorQuery<'a> {
    pub model: &'a str,
    pub version: u32,
    /// One device, or every device of the version.
    pub device: Option<(&'a str, &'a str)>,
    pub site: Option<&'a str>,
    /// Windows starting in `[from, to)`.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The paired error sums over the windows a query names.
pub async fn error_sums(
    pool: &PgPool,
    query: &ErrorQuery<'_>,
) -> Result<PairedErrorSums, sqlx::Error> {
    let (site, device) = match query.device {
        Some((site, device)) => (Some(site), Some(device)),
        None => (query.site, None),
    };
    let row = sqlx::query(
        "SELECT coalesce(sum(judged), 0)::bigint AS judged,
                coalesce(sum(unusable), 0)::bigint AS unusable,
                coalesce(sum(sum_c), 0) AS sum_c, coalesce(sum(sum_b), 0) AS sum_b,
                coalesce(sum(sum_d_sq), 0) AS sum_d_sq
         FROM monitoring.model_windows
         WHERE model = $1 AND version = $2
           AND ($3::text IS NULL OR site_id = $3) AND ($4::text IS NULL OR device_id = $4)
           AND window_start >= $5 AND window_start < $6",
    )
    .bind(query.model)
    .bind(query.version as i32)
    .bind(site)
    .bind(device)
    .bind(query.from)
    .bind(query.to)
    .fetch_one(pool)
    .await?;
    Ok(PairedErrorSums {
        judged: row.get::<i64, _>("judged") as u64,
        unusable: row.get::<i64, _>("unusable") as u64,
        sum_c: row.get("sum_c"),
        sum_b: row.get("sum_b"),
        sum_d_sq: row.get("sum_d_sq"),
    })
}

/// A device's latest reading and newest window, as its stored summaries tell: what silence
/// is judged on (the site's clock is the latest of its devices').
pub struct DeviceClock {
    pub device: String,
    pub last_reading_at: Option<DateTime<Utc>>,
    pub newest_window: DateTime<Utc>,
}

/// Every device of a site with its clock (one row each, kept by [`store_summary`]).
pub async fn device_clocks(pool: &PgPool, site: &str) -> Result<Vec<DeviceClock>, sqlx::Error> {
    let rows: Vec<(String, Option<DateTime<Utc>>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT device_id, last_reading_at, newest_window FROM monitoring.device_clocks
         WHERE site_id = $1",
    )
    .bind(site)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(device, last_reading_at, newest_window)| DeviceClock {
            device,
            last_reading_at,
            newest_window,
        })
        .collect())
}

/// When each site's last summary arrived (the hub's clock).
pub async fn last_arrivals(pool: &PgPool) -> Result<Vec<(String, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT site_id, max(received_at) FROM monitoring.windows
         WHERE received_at > now() - interval '30 days' GROUP BY site_id",
    )
    .fetch_all(pool)
    .await
}

/// The model versions with windows, newest window per version (narrowed as asked).
pub async fn versions(
    pool: &PgPool,
    model: Option<&str>,
    site: Option<&str>,
) -> Result<Vec<(String, u32, i64, DateTime<Utc>)>, sqlx::Error> {
    let rows: Vec<(String, i32, i64, DateTime<Utc>)> = sqlx::query_as(
        "SELECT model, version, count(DISTINCT (site_id, device_id)), max(window_start)
         FROM monitoring.model_windows
         WHERE ($1::text IS NULL OR model = $1) AND ($2::text IS NULL OR site_id = $2)
         GROUP BY model, version ORDER BY model, version",
    )
    .bind(model)
    .bind(site)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(m, v, d, w)| (m, v as u32, d, w))
        .collect())
}

/// `[end - windows hours, end)`.
pub fn trailing(end: DateTime<Utc>, windows: u32) -> (DateTime<Utc>, DateTime<Utc>) {
    (end - Duration::hours(i64::from(windows)), end)
}

/// The concept-drift detector of a scope (a fresh one if none is stored).
pub async fn concept_state(pool: &PgPool, scope: &str) -> Result<ConceptState, sqlx::Error> {
    let stored: Option<sqlx::types::Json<ConceptState>> =
        sqlx::query_scalar("SELECT state FROM monitoring.concept_state WHERE scope = $1")
            .bind(scope)
            .fetch_optional(pool)
            .await?;
    Ok(stored.map(|s| s.0).unwrap_or_default())
}

pub async fn save_concept_state(
    pool: &PgPool,
    scope: &str,
    state: &ConceptState,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO monitoring.concept_state (scope, state) VALUES ($1, $2)
         ON CONFLICT (scope) DO UPDATE SET state = EXCLUDED.state",
    )
    .bind(scope)
    .bind(sqlx::types::Json(state))
    .execute(pool)
    .await?;
    Ok(())
}

/// Counts one dead letter once (by its stream sequence); prunes those older than a week.
pub async fn count_dead_letter(
    pool: &PgPool,
    stream_sequence: u64,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO monitoring.dead_letters (stream_sequence, reason, at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(stream_sequence as i64)
    .bind(reason)
    .bind(at)
    .execute(pool)
    .await?;
    sqlx::query("DELETE FROM monitoring.dead_letters WHERE at < $1")
        .bind(at - Duration::days(7))
        .execute(pool)
        .await?;
    Ok(())
}

/// Dead letters of `reason` in the hour ending at `end`, and the hourly mean of the day before.
pub async fn dead_letter_rates(
    pool: &PgPool,
    reason: &str,
    end: DateTime<Utc>,
) -> Result<(u64, f64), sqlx::Error> {
    let hour = end - Duration::hours(1);
    let (this_hour, day_before): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE at >= $2 AND at < $3),
                count(*) FILTER (WHERE at >= $2 - interval '24 hours' AND at < $2)
         FROM monitoring.dead_letters WHERE reason = $1",
    )
    .bind(reason)
    .bind(hour)
    .bind(end)
    .fetch_one(pool)
    .await?;
    Ok((this_hour.max(0) as u64, day_before.max(0) as f64 / 24.0))
}

/// The reasons with dead letters in the last two days.
pub async fn recent_dead_letter_reasons(pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT reason FROM monitoring.dead_letters WHERE at > now() - interval '2 days'",
    )
    .fetch_all(pool)
    .await
}
