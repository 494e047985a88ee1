//! Request/reply micro services (`edgeops.svc.<service>.<endpoint>`): the serving loop the
//! services share, and the typed call their clients make, which knows how a refusal travels
//! (the micro-service error headers).

use std::future::Future;

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
