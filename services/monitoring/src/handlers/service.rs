//! The `edgeops.svc.monitoring.*` endpoints: `status` and `incidents`, from monitoring's own
//! tables.

use std::sync::Arc;

use async_nats::service::error::Error as ServiceError;
use chrono::{DateTime, Duration, Utc};
use edgeops_bus::service::{json_body, json_reply, refusal};
use edgeops_contracts::monitoring::IncidentKind;
use edgeops_monitoring_api::{
    IncidentRecord, IncidentsRequest, LiveError, SERVICE_NAME, StatusReply, StatusRequest,
    VersionStatus, codes, endpoints,
};
use sqlx::{PgPool, Row};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::store::{self, ErrorQuery};

const ENDPOINTS: [&str; 2] = [endpoints::STATUS, endpoints::INCIDENTS];

/// The spans of target time `status` reports.
const SPANS: [(&str, i64); 3] = [("1h", 1), ("24h", 24), ("7d", 168)];

pub async fn serve(
    client: async_nats::Client,
    pool: Arc<PgPool>,
    shutdown: CancellationToken,
) -> Result<(), async_nats::Error> {
    edgeops_bus::service::serve_answers(
        client,
        SERVICE_NAME,
        "Monitoring: live forecast error, drift and data quality per model version",
        &ENDPOINTS,
        shutdown,
        move |endpoint, payload| {
            let pool = pool.clone();
            async move { answer(&pool, endpoint, &payload).await }
        },
    )
    .await
}

async fn answer(pool: &PgPool, endpoint: &str, payload: &[u8]) -> Result<Vec<u8>, ServiceError> {
    let unavailable = |e: sqlx::Error| refusal(codes::UNAVAILABLE, e.to_string());
    match endpoint {
        endpoints::STATUS => {
            let request: StatusRequest = json_body(payload, r#"{"model"?, "site"?}"#)?;
            json_reply(&status(pool, &request).await.map_err(unavailable)?)
        }
        endpoints::INCIDENTS => {
            let request: IncidentsRequest = json_body(payload, r#"{"open_only"?, "limit"?}"#)?;
            let limit = request.limit.unwrap_or(100).min(1_000);
            json_reply(
                &incidents(pool, request.open_only, None, limit)
                    .await
                    .map_err(unavailable)?,
            )
        }
        other => Err(refusal(codes::BAD_REQUEST, format!("no endpoint {other}"))),
    }
}

async fn status(pool: &PgPool, request: &StatusRequest) -> Result<StatusReply, sqlx::Error> {
    let mut versions = Vec::new();
    for (model, version, devices, newest) in
        store::versions(pool, request.model.as_deref(), request.site.as_deref()).await?
    {
        let end = newest + Duration::hours(1);
        let mut windows = Vec::new();
        for (span, hours) in SPANS {
            let sums = store::error_sums(
                pool,
                &ErrorQuery {
                    model: &model,
                    version,
                    device: None,
                    site: request.site.as_deref(),
                    from: end - Duration::hours(hours),
                    to: end,
                },
            )
            .await?;
            windows.push(LiveError {
                span: span.into(),
                judged: sums.judged,
                model_rmse: sums.candidate_mse().map(f64::sqrt),
                persistence_rmse: sums.baseline_mse().map(f64::sqrt),
                skill: sums.skill(),
            });
        }
        versions.push(VersionStatus {
            model,
            version,
            devices: devices as u64,
            latest_window: newest,
            windows,
        });
    }
    let open_incidents = incidents(pool, true, request.site.as_deref(), 1_000).await?;
    Ok(StatusReply {
        versions,
        open_incidents,
    })
}

async fn incidents(
    pool: &PgPool,
    open_only: bool,
    site: Option<&str>,
    limit: u32,
) -> Result<Vec<IncidentRecord>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT incident, kind, scope, opened_at, closed_at, evidence FROM monitoring.incidents
         WHERE (NOT $1 OR closed_at IS NULL) AND ($2::text IS NULL OR site_id = $2)
         ORDER BY closed_at IS NOT NULL, opened_at DESC LIMIT $3",
    )
    .bind(open_only)
    .bind(site)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let kind: String = row.get("kind");
            Some(IncidentRecord {
                incident: row.get::<Uuid, _>("incident"),
                kind: serde_json::from_value::<IncidentKind>(kind.into()).ok()?,
                scope: row.get("scope"),
                opened_at: row.get::<DateTime<Utc>, _>("opened_at"),
                closed_at: row.get("closed_at"),
                evidence: serde_json::from_value(row.get("evidence")).unwrap_or_default(),
            })
        })
        .collect())
}
