//! The registry as a NATS micro service ("registry"): `nats micro ls` lists it, and every
//! endpoint under `edgeops.svc.registry.*` ([`edgeops_registry_api::endpoints`]) answers every request,
//! a refusal included (micro-service error headers with a [`edgeops_registry_api::codes`] code).
//! Requests are handled concurrently, so two commands on one version race for real and the
//! stream's sequence check picks the winner.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::Context;
use async_nats::service::error::Error as ServiceError;
use edgeops_bus::service::{json_body as body, json_reply as reply, refusal as error};
use edgeops_registry_api::{ProdQuery, ProdReply};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::SERVICE_NAME;
use crate::handlers::commands;
use crate::projection::{ProjectionError, queries};
use edgeops_registry_api::{
    ArchiveRequest, ModelName, ModelRequest, PromoteRequest, Scope, VersionRequest, codes,
    endpoints,
};

/// What the endpoints need.
pub struct ServiceContext {
    pub js: Context,
    pub pool: PgPool,
}

const ENDPOINTS: [&str; 7] = [
    endpoints::PROMOTE,
    endpoints::ARCHIVE,
    endpoints::MODELS,
    endpoints::VERSIONS,
    endpoints::VERSION,
    endpoints::PROD,
    endpoints::MANIFEST,
];

fn model_name(model: &str) -> Result<ModelName, ServiceError> {
    ModelName::parse(model).map_err(|e| error(codes::BAD_REQUEST, e.to_string()))
}

fn unavailable(err: ProjectionError) -> ServiceError {
    error(codes::UNAVAILABLE, err.to_string())
}

fn found<T>(value: Option<T>, what: impl FnOnce() -> String) -> Result<T, ServiceError> {
    value.ok_or_else(|| error(codes::NOT_FOUND, what()))
}

/// Longest a command's reply waits for the projection to show it.
const PROJECTION_WAIT: Duration = Duration::from_secs(2);

/// Waits until the projection shows the command's events, so that a query sent after the
/// reply sees them. Past [`PROJECTION_WAIT`] the reply goes anyway: the events are recorded,
/// and the projection catches up.
async fn projected(pool: &PgPool, sequence: u64) {
    let deadline = tokio::time::Instant::now() + PROJECTION_WAIT;
    while tokio::time::Instant::now() < deadline {
        match queries::caught_up(pool, sequence).await {
            Ok(true) => return,
            Ok(false) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(err) => {
                tracing::debug!(error = %err, "cannot tell whether the projection caught up");
                return;
            }
        }
    }
    tracing::info!(sequence, "replying before the projection caught up");
}

/// Answers one request to `endpoint`.
pub async fn answer(
    ctx: &ServiceContext,
    endpoint: &str,
    payload: &[u8],
) -> Result<Vec<u8>, ServiceError> {
    let command_error = |e: commands::CommandError| error(e.code(), e.to_string());
    match endpoint {
        endpoints::PROMOTE => {
            let request: PromoteRequest = body(payload, r#"{"model","version","to","actor"}"#)?;
            let done = commands::promote(&ctx.js, &request)
                .await
                .map_err(command_error)?;
            projected(&ctx.pool, done.sequence).await;
            reply(&done)
        }
        endpoints::ARCHIVE => {
            let request: ArchiveRequest = body(payload, r#"{"model","version","actor","reason"}"#)?;
            let done = commands::archive(&ctx.js, &request)
                .await
                .map_err(command_error)?;
            projected(&ctx.pool, done.sequence).await;
            reply(&done)
        }
        endpoints::MODELS => reply(&queries::models(&ctx.pool).await.map_err(unavailable)?),
        endpoints::VERSIONS => {
            let request: ModelRequest = body(payload, r#"{"model"}"#)?;
            let model = model_name(&request.model)?;
            let versions = queries::versions(&ctx.pool, &model)
                .await
                .map_err(unavailable)?;
            reply(&found(versions, || format!("no model {model}"))?)
        }
        endpoints::VERSION => {
            let request: VersionRequest = body(payload, r#"{"model","version"}"#)?;
            let model = model_name(&request.model)?;
            let detail = queries::version(&ctx.pool, &model, request.version)
                .await
                .map_err(unavailable)?;
            reply(&found(detail, || {
                format!("no version {model}/v{}", request.version)
            })?)
        }
        endpoints::PROD => {
            let query: ProdQuery = body(payload, "a ProdQuery {\"model\",\"scope\"}")?;
            let model = model_name(&query.model)?;
            let prod = queries::prod(&ctx.pool, &model, &Scope::from(&query.scope))
                .await
                .map_err(unavailable)?;
            reply(&ProdReply { prod })
        }
        endpoints::MANIFEST => {
            let request: VersionRequest = body(payload, r#"{"model","version"}"#)?;
            let model = model_name(&request.model)?;
            let key = format!("{model}/v{}", request.version);
            let signed = queries::manifest(&ctx.pool, &model, request.version)
                .await
                .map_err(unavailable)?;
            let signed = found(signed, || format!("no version {key}"))?;
            reply(&found(signed, || {
                format!("{key} has no signed manifest yet")
            })?)
        }
        other => Err(error(codes::NOT_FOUND, format!("no endpoint {other}"))),
    }
}

/// Registers the micro service and answers until `shutdown`, then finishes the requests in
/// hand before it deregisters.
pub async fn serve(
    client: async_nats::Client,
    ctx: Arc<ServiceContext>,
    shutdown: CancellationToken,
) -> Result<(), async_nats::Error> {
    edgeops_bus::service::serve_answers(
        client,
        SERVICE_NAME,
        "Model registry: versions, stages, promotion gates, signed manifests",
        &ENDPOINTS,
        shutdown,
        move |endpoint, payload| {
            let ctx = ctx.clone();
            async move { answer(&ctx, endpoint, &payload).await }
        },
    )
    .await
}
