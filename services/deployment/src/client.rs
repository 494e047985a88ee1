//! A typed client of deployment's endpoints, for the `edgeops rollout` command and the tests:
//! one place that knows how a refusal travels (micro-service error headers).

use async_nats::service::{NATS_SERVICE_ERROR, NATS_SERVICE_ERROR_CODE};
use edgeops_contracts::subjects;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::SERVICE_NAME;
use crate::api::{
    ActReply, ActRequest, ListRequest, RolloutStatus, RolloutSummary, StartReply, StartRequest,
    StatusRequest, endpoints,
};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Deployment answered with a refusal; `code` is one of [`crate::api::codes`].
    #[error("{message}")]
    Refused { code: usize, message: String },
    #[error("no answer from deployment at {endpoint}: {source}")]
    Request {
        endpoint: String,
        #[source]
        source: async_nats::RequestError,
    },
    #[error("deployment's answer to {endpoint} is not what this client expects: {source}")]
    Decode {
        endpoint: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("encoding the request: {0}")]
    Encode(#[source] serde_json::Error),
}

impl ClientError {
    /// The refusal's code, when deployment refused.
    pub fn code(&self) -> Option<usize> {
        match self {
            ClientError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// The operator commands that act on one rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Pause,
    Resume,
    Cancel,
    Rollback,
}

impl Act {
    pub fn endpoint(self) -> &'static str {
        match self {
            Act::Pause => endpoints::PAUSE,
            Act::Resume => endpoints::RESUME,
            Act::Cancel => endpoints::CANCEL,
            Act::Rollback => endpoints::ROLLBACK,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DeploymentClient {
    nats: async_nats::Client,
}

impl DeploymentClient {
    pub fn new(nats: async_nats::Client) -> Self {
        Self { nats }
    }

    pub async fn start(&self, request: &StartRequest) -> Result<StartReply, ClientError> {
        self.call(endpoints::START, request).await
    }

    pub async fn act(&self, act: Act, request: &ActRequest) -> Result<ActReply, ClientError> {
        self.call(act.endpoint(), request).await
    }

    pub async fn status(&self, rollout: Uuid) -> Result<RolloutStatus, ClientError> {
        self.call(endpoints::STATUS, &StatusRequest { rollout })
            .await
    }

    pub async fn list(&self, request: &ListRequest) -> Result<Vec<RolloutSummary>, ClientError> {
        self.call(endpoints::LIST, request).await
    }

    async fn call<Q: Serialize, R: DeserializeOwned>(
        &self,
        endpoint: &str,
        body: &Q,
    ) -> Result<R, ClientError> {
        let subject = subjects::service_endpoint(SERVICE_NAME, endpoint);
        let payload = serde_json::to_vec(body).map_err(ClientError::Encode)?;
        let reply = self
            .nats
            .request(subject.clone(), payload.into())
            .await
            .map_err(|source| ClientError::Request {
                endpoint: subject.clone(),
                source,
            })?;
        if let Some(headers) = &reply.headers
            && let Some(code) = headers.get(NATS_SERVICE_ERROR_CODE)
        {
            return Err(ClientError::Refused {
                code: code.as_str().parse().unwrap_or(0),
                message: headers
                    .get(NATS_SERVICE_ERROR)
                    .map(|m| m.as_str().to_owned())
                    .unwrap_or_default(),
            });
        }
        serde_json::from_slice(&reply.payload).map_err(|source| ClientError::Decode {
            endpoint: subject,
            source,
        })
    }
}
