//! A typed client of the registry's endpoints, for other services, the `edgeops models`
//! command and the tests: one place that knows how a refusal travels (micro-service error
//! headers).

use edgeops_contracts::manifest::SignedManifest;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{
    ArchiveRequest, CommandReply, ModelRequest, ModelSummary, ProdQuery, ProdReply, PromoteRequest,
    SERVICE_NAME, VersionDetail, VersionRequest, VersionSummary, endpoints,
};

/// What a call of the service's endpoints can end in (see [`edgeops_bus::CallError`]).
pub type ClientError = edgeops_bus::CallError;

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
        edgeops_bus::service::call(&self.nats, SERVICE_NAME, endpoint, body).await
    }
}
