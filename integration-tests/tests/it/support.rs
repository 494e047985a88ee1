//! Small helpers shared by the tests: readings to publish and rows to count.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use edgeops_contracts::{DeviceId, SiteId, subjects};
use edgeops_integration_tests::{check, wait_until};

fn ids(site: &str, device: &str) -> (SiteId, DeviceId) {
    (
        SiteId::parse(site).unwrap(),
        DeviceId::parse(device).unwrap(),
    )
}

/// Where a sensor at `site` publishes a reading of `device` (the contracts' subject).
pub fn raw_subject(site: &str, device: &str) -> String {
    let (site, device) = ids(site, device);
    subjects::raw_reading(&site, &device)
}

/// Where the gateway forwards `device`'s readings at the hub (the contracts' subject).
pub fn hub_subject(site: &str, device: &str) -> String {
    let (site, device) = ids(site, device);
    subjects::hub_reading(&site, &device)
}

/// Where the gateway publishes `device`'s forecasts at the site (the contracts' subject).
pub fn forecast_subject(site: &str, device: &str) -> String {
    let (site, device) = ids(site, device);
    subjects::forecast(&site, &device)
}

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

/// Readings by (site, device, ts), with their metrics.
pub type Rows = std::collections::BTreeMap<
    (String, String, DateTime<Utc>),
    std::collections::BTreeMap<String, f64>,
>;

/// What a site's policy sends for `raw` (in local stream order, sequences from 1): the readings
/// and the number of window aggregates. Computed with the gateway's own planner, independently of
/// the running gateway, so a test can compare what arrived with what should have.
pub fn selected_by_policy(
    policy: &edgeops_edge_gateway::reduction::ReductionPolicy,
    site: &str,
    raw: &[(String, String)],
) -> (Rows, usize) {
    use edgeops_contracts::{Reading, ReadingLimits};
    let mut planner = edgeops_edge_gateway::reduction::SitePlanner::default();
    let site = edgeops_contracts::SiteId::parse(site).expect("a valid site id");
    let (mut readings, mut aggregates) = (Rows::new(), 0usize);
    for (i, (subject, payload)) in raw.iter().enumerate() {
        for out in planner.plan(
            policy,
            &site,
            i as u64 + 1,
            subject,
            payload.as_bytes(),
            Utc::now(),
        ) {
            if out.subject.starts_with("edgeops.aggregates.") {
                aggregates += serde_json::from_slice::<Vec<serde_json::Value>>(&out.payload)
                    .unwrap()
                    .len();
            } else {
                let r = Reading::from_message(
                    &out.subject,
                    &out.payload,
                    Utc::now(),
                    &ReadingLimits::default(),
                )
                .unwrap();
                readings.insert((site.to_string(), r.device.to_string(), r.ts), r.metrics);
            }
        }
    }
    (readings, aggregates)
}

/// Every reading row, keyed like `Rows`.
pub async fn stored_rows(pool: &sqlx::PgPool) -> Rows {
    let rows: Vec<(String, String, DateTime<Utc>, serde_json::Value)> =
        sqlx::query_as("SELECT site_id, device_id, observed_at, metrics FROM ingest.readings")
            .fetch_all(pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(s, d, t, m)| ((s, d, t), serde_json::from_value(m).unwrap()))
        .collect()
}

/// Waits until Postgres holds exactly `readings` reading rows and `aggregates` aggregate rows.
pub async fn wait_for_rows_and_aggregates(
    pool: &sqlx::PgPool,
    readings: usize,
    aggregates: usize,
    timeout: Duration,
) {
    wait_until(
        "the selected readings and aggregates in Postgres",
        timeout,
        || async {
            let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM ingest.readings")
                .fetch_one(pool)
                .await
                .map_err(|e| e.to_string())?;
            let aggs: i64 = sqlx::query_scalar("SELECT count(*) FROM ingest.aggregates")
                .fetch_one(pool)
                .await
                .map_err(|e| e.to_string())?;
            check(
                rows as usize == readings && aggs as usize == aggregates,
                format!("{rows}/{readings} rows, {aggs}/{aggregates} aggregates"),
            )
        },
    )
    .await;
}

/// Every message of a stream in `js`'s domain, in stream order: (subject, payload).
pub async fn stream_messages(
    js: &async_nats::jetstream::Context,
    stream: &str,
) -> Vec<(String, Vec<u8>)> {
    use async_nats::jetstream::consumer::{DeliverPolicy, pull};
    use futures::StreamExt;
    let stream = js.get_stream(stream).await.unwrap();
    let count = stream.get_info().await.unwrap().state.messages as usize;
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap().take(count);
    let mut out = Vec::with_capacity(count);
    while let Some(message) = messages.next().await {
        let message = message.unwrap();
        out.push((message.subject.to_string(), message.payload.to_vec()));
    }
    out
}

/// The dead letters of a stream (hub `DEAD_LETTERS` or a site's `DEAD_LETTERS_LOCAL`), once it
/// holds `expected` of them: (subject, record).
pub async fn wait_for_dead_letters(
    js: &async_nats::jetstream::Context,
    stream: &str,
    expected: u64,
) -> Vec<(String, edgeops_contracts::DeadLetter)> {
    wait_until(
        &format!("{expected} dead letters in {stream}"),
        Duration::from_secs(60),
        || async {
            let mut handle = js.get_stream(stream).await.map_err(|e| e.to_string())?;
            let n = handle
                .info()
                .await
                .map_err(|e| e.to_string())?
                .state
                .messages;
            assert!(
                n <= expected,
                "{n} dead letters in {stream}, expected {expected}"
            );
            check(n == expected, format!("{n} dead letters"))
        },
    )
    .await;
    stream_messages(js, stream)
        .await
        .into_iter()
        .map(|(subject, payload)| {
            let envelope = edgeops_contracts::EventEnvelope::decode(
                &payload,
                &edgeops_contracts::events::upcasters(),
            )
            .unwrap();
            (subject, envelope.into_typed().unwrap().data)
        })
        .collect()
}
