//! A typed client of deployment's endpoints, for the `edgeops rollout` command and the tests:
//! one place that knows how a refusal travels (micro-service error headers).

use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::{
    ActReply, ActRequest, ListRequest, RolloutStatus, RolloutSummary, SERVICE_NAME, StartReply,
    StartRequest, StatusRequest, endpoints,
};

/// What a call of the service's endpoints can end in (see [`edgeops_bus::CallError`]).
pub type ClientError = edgeops_bus::CallError;

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
        edgeops_bus::service::call(&self.nats, SERVICE_NAME, endpoint, body).await
    }
}
