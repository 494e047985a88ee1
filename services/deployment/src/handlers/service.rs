//! Deployment as a NATS micro service ("deployment"): every endpoint under
//! `edgeops.svc.deployment.*` ([`edgeops_deployment_api::endpoints`]) answers every request, a refusal
//! included (micro-service error headers with a [`edgeops_deployment_api::codes`] code). Requests are
//! handled concurrently, so two operators acting on one rollout race for real and the
//! stream's sequence check picks the winner.

use std::sync::Arc;

use async_nats::service::error::Error as ServiceError;
use edgeops_bus::service::{json_body as body, json_reply as reply, refusal as error};
use tokio_util::sync::CancellationToken;

use crate::SERVICE_NAME;
use crate::handlers::commands::{self, Deps};
use crate::projection::queries;
use crate::view::status_of;
use edgeops_deployment_api::Act;
use edgeops_deployment_api::{
    ActRequest, ListRequest, StartRequest, StatusRequest, codes, endpoints,
};

const ENDPOINTS: [&str; 7] = [
    endpoints::START,
    endpoints::PAUSE,
    endpoints::RESUME,
    endpoints::CANCEL,
    endpoints::ROLLBACK,
    endpoints::STATUS,
    endpoints::LIST,
];

/// Answers one request to `endpoint`.
pub async fn answer(deps: &Deps, endpoint: &str, payload: &[u8]) -> Result<Vec<u8>, ServiceError> {
    let refused = |e: commands::CommandError| error(e.code(), e.to_string());
    let act = |act: Act| async move {
        let request: ActRequest = body(
            payload,
            r#"{"rollout","actor","reason"?,"expected_sequence"?}"#,
        )?;
        reply(&commands::act(deps, act, &request).await.map_err(refused)?)
    };
    match endpoint {
        endpoints::START => {
            let request: StartRequest = body(
                payload,
                r#"{"model","version","selector":{"sites","tags","devices"},"strategy"?,"gates"?,"actor"}"#,
            )?;
            reply(&commands::start(deps, &request).await.map_err(refused)?)
        }
        endpoints::PAUSE => act(Act::Pause).await,
        endpoints::RESUME => act(Act::Resume).await,
        endpoints::CANCEL => act(Act::Cancel).await,
        endpoints::ROLLBACK => act(Act::Rollback).await,
        endpoints::STATUS => {
            let request: StatusRequest = body(payload, r#"{"rollout"}"#)?;
            let loaded = deps
                .store
                .load(&request.rollout.to_string())
                .await
                .map_err(|e| error(codes::UNAVAILABLE, e.to_string()))?;
            match status_of(request.rollout, &loaded) {
                Some(status) => reply(&status),
                None => Err(error(
                    codes::NOT_FOUND,
                    format!("no rollout {}", request.rollout),
                )),
            }
        }
        endpoints::LIST => {
            let request: ListRequest = if payload.is_empty() {
                ListRequest::default()
            } else {
                body(payload, r#"{"active"?,"limit"?}"#)?
            };
            let rollouts = queries::list(&deps.pool, &request)
                .await
                .map_err(|e| error(codes::UNAVAILABLE, e.to_string()))?;
            reply(&rollouts)
        }
        other => Err(error(codes::NOT_FOUND, format!("no endpoint {other}"))),
    }
}

/// Registers the micro service and answers until `shutdown`, then finishes the requests in
/// hand before it deregisters.
pub async fn serve(
    client: async_nats::Client,
    deps: Arc<Deps>,
    shutdown: CancellationToken,
) -> Result<(), async_nats::Error> {
    edgeops_bus::service::serve_answers(
        client,
        SERVICE_NAME,
        "Rollouts of model versions: canary, waves, health gates, rollback",
        &ENDPOINTS,
        shutdown,
        move |endpoint, payload| {
            let deps = deps.clone();
            async move { answer(&deps, endpoint, &payload).await }
        },
    )
    .await
}
