//! Request/reply micro services (`edgeops.svc.<service>.<endpoint>`): the serving loop the
//! services share, and the typed call their clients make, which knows how a refusal travels
//! (the micro-service error headers).

use std::future::Future;

use async_nats::service::error::Error as ServiceError;
use async_nats::service::{
    NATS_SERVICE_ERROR, NATS_SERVICE_ERROR_CODE, Request, ServiceBuilder, ServiceExt,
};
use edgeops_contracts::subjects;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Registers `service` with `endpoints` and hands each request to `respond`, concurrently, until
/// `shutdown`; then finishes the requests in hand before it deregisters.
pub async fn serve<F, Fut>(
    client: async_nats::Client,
    service: &'static str,
    description: &str,
    endpoints: &[&'static str],
    shutdown: CancellationToken,
    respond: F,
) -> Result<(), async_nats::Error>
where
    F: Fn(&'static str, Request) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let builder = client.service_builder().description(description);
    serve_registered(builder, service, endpoints, shutdown, respond).await
}

/// As [`serve`], and `$SRV.STATS.<service>` (what `nats micro stats` asks) carries `stats()`
/// as each endpoint's `data`: without it the micro protocol answers `data: null`, and an
/// operator following the docs finds no counters.
pub async fn serve_with_stats<F, Fut, S>(
    client: async_nats::Client,
    service: &'static str,
    description: &str,
    endpoints: &[&'static str],
    stats: S,
    shutdown: CancellationToken,
    respond: F,
) -> Result<(), async_nats::Error>
where
    F: Fn(&'static str, Request) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
    S: Fn() -> serde_json::Value + Send + Sync + 'static,
{
    let builder = client
        .service_builder()
        .description(description)
        .stats_handler(move |_endpoint, _stats| stats());
    serve_registered(builder, service, endpoints, shutdown, respond).await
}

/// The codes every service's refusals share (a service's API crate adds its own): the
/// HTTP status a client would expect, carried in the micro protocol's error header.
pub mod codes {
    /// The request is not what the endpoint takes (its body, a name in it).
    pub const BAD_REQUEST: usize = 400;
    /// What the request names does not exist.
    pub const NOT_FOUND: usize = 404;
    /// The request lost a race, or contradicts the current state.
    pub const CONFLICT: usize = 409;
    /// The service failed to build its answer.
    pub const INTERNAL: usize = 500;
    /// Something the service depends on (the stream, Postgres) did not answer.
    pub const UNAVAILABLE: usize = 503;
}

/// A refusal: `code` and a message for the caller.
pub fn refusal(code: usize, status: impl Into<String>) -> ServiceError {
    ServiceError {
        status: status.into(),
        code,
    }
}

/// The request body as JSON, or a `BAD_REQUEST` refusal naming the `shape` expected.
pub fn json_body<T: DeserializeOwned>(payload: &[u8], shape: &str) -> Result<T, ServiceError> {
    serde_json::from_slice(payload)
        .map_err(|e| refusal(codes::BAD_REQUEST, format!("expected {shape}: {e}")))
}

/// A reply as JSON.
pub fn json_reply<T: Serialize>(value: &T) -> Result<Vec<u8>, ServiceError> {
    serde_json::to_vec(value).map_err(|e| refusal(codes::INTERNAL, e.to_string()))
}

/// As [`serve`], with the answering done here: `answer` gets each request's endpoint and body
/// and returns the reply or a refusal; a refusal is logged (at `info`: the caller hears of it)
/// and every request gets its answer, within the span `edgeops.<service>.request`.
pub async fn serve_answers<F, Fut>(
    client: async_nats::Client,
    service: &'static str,
    description: &str,
    endpoints: &[&'static str],
    shutdown: CancellationToken,
    answer: F,
) -> Result<(), async_nats::Error>
where
    F: Fn(&'static str, bytes::Bytes) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<u8>, ServiceError>> + Send + 'static,
{
    serve(
        client,
        service,
        description,
        endpoints,
        shutdown,
        move |endpoint, request| {
            let answer = answer.clone();
            let span = tracing::info_span!("edgeops.request", service, endpoint);
            async move {
                let outcome = answer(endpoint, request.message.payload.clone()).await;
                if let Err(err) = &outcome {
                    tracing::info!(service, endpoint, code = err.code, status = %err.status, "request refused");
                }
                if let Err(err) = request.respond(outcome.map(Into::into)).await {
                    tracing::warn!(service, endpoint, error = %err, "answering a request failed");
                }
            }
            .instrument(span)
        },
    )
    .await
}

async fn serve_registered<F, Fut>(
    builder: ServiceBuilder,
    service: &'static str,
    endpoints: &[&'static str],
    shutdown: CancellationToken,
    respond: F,
) -> Result<(), async_nats::Error>
where
    F: Fn(&'static str, Request) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let registered = builder.start(service, env!("CARGO_PKG_VERSION")).await?;
    let group = registered.group(subjects::service_group(service));
    let mut streams: Vec<BoxStream<'static, (&'static str, Request)>> = Vec::new();
    for &name in endpoints {
        let endpoint = group.endpoint(name).await?;
        streams.push(endpoint.map(move |request| (name, request)).boxed());
    }
    let mut requests = futures::stream::select_all(streams);
    let mut in_flight = JoinSet::new();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            next = requests.next() => {
                let Some((endpoint, request)) = next else { break };
                in_flight.spawn(respond(endpoint, request));
            }
        }
    }
    while in_flight.join_next().await.is_some() {}
    registered.stop().await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The service answered with a refusal; `code` is one of the service's own codes.
    #[error("{message}")]
    Refused { code: usize, message: String },
    #[error("no answer from {endpoint}: {source}")]
    Request {
        endpoint: String,
        #[source]
        source: async_nats::RequestError,
    },
    #[error("the answer from {endpoint} is not what this client expects: {source}")]
    Decode {
        endpoint: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("encoding the request: {0}")]
    Encode(#[source] serde_json::Error),
}

impl CallError {
    /// The refusal's code, when the service refused.
    pub fn code(&self) -> Option<usize> {
        match self {
            CallError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// Sends `body` as JSON to `service`'s `endpoint` and decodes the JSON answer.
pub async fn call<Q: Serialize, R: DeserializeOwned>(
    nats: &async_nats::Client,
    service: &str,
    endpoint: &str,
    body: &Q,
) -> Result<R, CallError> {
    let subject = subjects::service_endpoint(service, endpoint);
    let payload = serde_json::to_vec(body).map_err(CallError::Encode)?;
    let reply = nats
        .request(subject.clone(), payload.into())
        .await
        .map_err(|source| CallError::Request {
            endpoint: subject.clone(),
            source,
        })?;
    if let Some(headers) = &reply.headers
        && let Some(code) = headers.get(NATS_SERVICE_ERROR_CODE)
    {
        return Err(CallError::Refused {
            code: code.as_str().parse().unwrap_or(0),
            message: headers
                .get(NATS_SERVICE_ERROR)
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default(),
        });
    }
    serde_json::from_slice(&reply.payload).map_err(|source| CallError::Decode {
        endpoint: subject,
        source,
    })
}
