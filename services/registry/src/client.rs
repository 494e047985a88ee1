//! A typed client of the registry's endpoints, for the `edgeops models` command and the tests:
//! one place that knows how a refusal travels (micro-service error headers).

use async_nats::service::{NATS_SERVICE_ERROR, NATS_SERVICE_ERROR_CODE};
use edgeops_artifacts::SignedManifest;
use edgeops_contracts::subjects;
use edgeops_contracts::training::{ProdQuery, ProdReply};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::SERVICE_NAME;
use crate::api::{
    ArchiveRequest, CommandReply, ModelRequest, ModelSummary, PromoteRequest, VersionDetail,
    VersionRequest, VersionSummary, endpoints,
};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The registry answered with a refusal; `code` is one of [`crate::api::codes`].
    #[error("{message}")]
    Refused { code: usize, message: String },
    #[error("no answer from the registry at {endpoint}: {source}")]
    Request {
        endpoint: String,
        #[source]
        source: async_nats::RequestError,
    },
    #[error("the registry's answer to {endpoint} is not what this client expects: {source}")]
    Decode {
        endpoint: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("encoding the request: {0}")]
    Encode(#[source] serde_json::Error),
}

impl ClientError {
    /// The refusal's code, when the registry refused.
    pub fn code(&self) -> Option<usize> {
        match self {
            ClientError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct RegistryClient {
    nats: async_nats::Client,
}

impl RegistryClient {
    pub fn new(nats: async_nats::Client) -> Self {
        Self { nats }
    }

    pub async fn promote(&self, request: &PromoteRequest) -> Result<CommandReply, ClientError> {
        self.call(endpoints::PROMOTE, request).await
    }

    pub async fn archive(&self, request: &ArchiveRequest) -> Result<CommandReply, ClientError> {
        self.call(endpoints::ARCHIVE, request).await
    }

    pub async fn models(&self) -> Result<Vec<ModelSummary>, ClientError> {
        self.call(endpoints::MODELS, &serde_json::json!({})).await
    }

    pub async fn versions(&self, model: &str) -> Result<Vec<VersionSummary>, ClientError> {
        let request = ModelRequest {
            model: model.to_owned(),
        };
        self.call(endpoints::VERSIONS, &request).await
    }

    pub async fn version(&self, model: &str, version: u32) -> Result<VersionDetail, ClientError> {
        let request = VersionRequest {
            model: model.to_owned(),
            version,
        };
        self.call(endpoints::VERSION, &request).await
    }

    pub async fn prod(&self, query: &ProdQuery) -> Result<ProdReply, ClientError> {
        self.call(endpoints::PROD, query).await
    }

    pub async fn manifest(&self, model: &str, version: u32) -> Result<SignedManifest, ClientError> {
        let request = VersionRequest {
            model: model.to_owned(),
            version,
        };
        self.call(endpoints::MANIFEST, &request).await
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
