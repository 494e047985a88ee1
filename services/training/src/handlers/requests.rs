//! training as a NATS micro service: `edgeops.svc.training.request` takes a run request and
//! answers with the run's id (the run itself proceeds asynchronously; watch its events), and
//! `edgeops.svc.training.run` returns a run's events. Every request gets a reply, errors included.

use async_nats::jetstream::Context;
use async_nats::service::Request;
use edgeops_contracts::training::{RUN_AGGREGATE, RunAccepted, RunCommand, RunRequest, Trigger};
use edgeops_contracts::{Actor, SiteId, streams, subjects};
use edgeops_features::FeatureSpec;
use tokio_util::sync::CancellationToken;

use crate::SERVICE_NAME;

/// Longest forecast horizon accepted, in bins.
pub const MAX_HORIZON_BINS: u32 = 1_000;

/// Checks what the stream cannot: the spec exists, the model name is a token, the horizon fits.
pub fn validate(request: &RunRequest) -> Result<(), String> {
    if FeatureSpec::by_name(&request.spec).is_none() {
        return Err(format!(
            "unknown feature spec {:?}; known: {}",
            request.spec,
            FeatureSpec::NAMES.join(", ")
        ));
    }
    SiteId::parse(request.model.as_str()).map_err(|e| format!("model name: {e}"))?;
    if !(1..=MAX_HORIZON_BINS).contains(&request.horizon_bins) {
        return Err(format!(
            "horizon_bins must be 1..={MAX_HORIZON_BINS}, got {}",
            request.horizon_bins
        ));
    }
    if let (Some(from), Some(to)) = (request.from, request.to)
        && from >= to
    {
        return Err(format!("empty range: from {from} is not before to {to}"));
    }
    Ok(())
}

fn error(code: usize, status: impl Into<String>) -> async_nats::service::error::Error {
    async_nats::service::error::Error {
        status: status.into(),
        code,
    }
}

async fn handle_request(
    js: &Context,
    request: &Request,
) -> Result<Vec<u8>, async_nats::service::error::Error> {
    let command: RunCommand = serde_json::from_slice(&request.message.payload)
        .map_err(|e| error(400, format!("not a run request: {e}")))?;
    validate(&command.request).map_err(|e| error(400, e))?;
    let run = super::request_run(
        js,
        command.request,
        Trigger::Command,
        Actor::User(command.actor),
    )
    .await
    .map_err(|e| error(503, e.to_string()))?;
    serde_json::to_vec(&RunAccepted { run }).map_err(|e| error(500, e.to_string()))
}

/// A run's events, oldest first, as stored (JSON envelopes).
async fn handle_run(
    js: &Context,
    request: &Request,
) -> Result<Vec<u8>, async_nats::service::error::Error> {
    let run: RunAccepted = serde_json::from_slice(&request.message.payload)
        .map_err(|e| error(400, format!("expected {{\"run\": \"<uuid>\"}}: {e}")))?;
    let subject = subjects::aggregate_events(RUN_AGGREGATE, &run.run.to_string());
    let events = edgeops_bus::read_subject(js, streams::EVENTS, &subject)
        .await
        .map_err(|e| error(503, e.to_string()))?;
    if events.is_empty() {
        return Err(error(404, format!("no run {}", run.run)));
    }
    let values: Vec<serde_json::Value> = events
        .iter()
        .filter_map(|(_, bytes)| serde_json::from_slice(bytes).ok())
        .collect();
    serde_json::to_vec(&values).map_err(|e| error(500, e.to_string()))
}

/// Registers the micro service and answers until `shutdown`, then finishes the requests in
/// hand before it deregisters.
pub async fn serve(
    client: async_nats::Client,
    js: Context,
    shutdown: CancellationToken,
) -> Result<(), async_nats::Error> {
    edgeops_bus::service::serve(
        client,
        SERVICE_NAME,
        "Trains forecast models on feature rows and exports them to ONNX",
        &["request", "run"],
        shutdown,
        move |endpoint, request| {
            let js = js.clone();
            async move { respond(&js, endpoint, request).await }
        },
    )
    .await
}

async fn respond(js: &Context, endpoint: &'static str, request: Request) {
    let reply = if endpoint == "run" {
        handle_run(js, &request).await
    } else {
        handle_request(js, &request).await
    };
    if let Err(err) = &reply {
        tracing::info!(code = err.code, status = %err.status, "training request refused");
    }
    if let Err(err) = request.respond(reply.map(Into::into)).await {
        tracing::warn!(error = %err, "answering a training request failed");
    }
}
