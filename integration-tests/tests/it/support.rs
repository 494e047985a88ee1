//! Small helpers shared by the tests: readings to publish and rows to count.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use edgeops_integration_tests::{check, wait_until};

/// A base time safely in the past, so every generated reading passes the timestamp rules.
pub fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap()
}

/// The JSON a sensor (or `nats pub`) sends for reading `n` of a device.
pub fn reading_json(n: i64) -> String {
    let ts = base_time() + chrono::Duration::seconds(n * 10);
    format!(
        r#"{{"ts":"{}","metrics":{{"co2_ppm":{},"temperature_c":{}}}}}"#,
        ts.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        400 + n % 600,
        20.0 + (n % 50) as f64 / 10.0
    )
}

pub async fn count_rows(pool: &sqlx::PgPool) -> Result<i64, String> {
    sqlx::query_scalar("SELECT count(*) FROM ingest.readings")
        .fetch_one(pool)
        .await
        .map_err(|e| e.to_string())
}

/// Waits until the readings table holds exactly `expected` rows (fails fast if it overshoots).
pub async fn wait_for_rows(pool: &sqlx::PgPool, expected: i64, timeout: Duration) {
    wait_until(
        &format!("{expected} rows in ingest.readings"),
        timeout,
        || async {
            let rows = count_rows(pool)
                .await
                .map_err(|e| format!("query failed (table may not exist yet): {e}"))?;
            assert!(
                rows <= expected,
                "{rows} rows: more than the {expected} published"
            );
            check(rows == expected, format!("{rows} rows"))
        },
    )
    .await;
}

/// Waits until the gateway's local stream exists, i.e. sensors' publishes are being kept.
pub async fn wait_for_local_stream(leaf: &async_nats::Client, site: &str) {
    let js = async_nats::jetstream::with_domain(leaf.clone(), format!("edge-{site}"));
    wait_until("the site's local stream", Duration::from_secs(20), || {
        let js = js.clone();
        async move {
            match js
                .get_stream(edgeops_contracts::streams::LOCAL_READINGS)
                .await
            {
                Ok(_) => Ok(Some(())),
                Err(e) => Err(e.to_string()),
            }
        }
    })
    .await;
}
