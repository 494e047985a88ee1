//! The monitoring service's public interface: what the CLI, another service or a test needs to
//! ask it. Depend on this crate, never on `edgeops-monitoring` (the implementation).
//!
//! Every endpoint lives at `edgeops.svc.monitoring.<endpoint>`; a refusal is a NATS
//! micro-service error (headers `Nats-Service-Error-Code`, one of [`codes`], and
//! `Nats-Service-Error`).

use chrono::{DateTime, Utc};
use edgeops_contracts::monitoring::{Evidence, IncidentKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Name of the NATS micro service (`edgeops.svc.monitoring.*`) and the events' service actor.
pub const SERVICE_NAME: &str = "monitoring";

/// Endpoint names under `edgeops.svc.monitoring`.
pub mod endpoints {
    /// Per model version: live error and skill vs persistence, drift per feature, incidents.
    pub const STATUS: &str = "status";
    /// Incidents, open first.
    pub const INCIDENTS: &str = "incidents";
}

/// Error codes, read like their HTTP namesakes.
pub mod codes {
    pub const BAD_REQUEST: usize = edgeops_bus::service::codes::BAD_REQUEST;
    pub const INTERNAL: usize = edgeops_bus::service::codes::INTERNAL;
    /// Postgres is unavailable; retry later.
    pub const UNAVAILABLE: usize = edgeops_bus::service::codes::UNAVAILABLE;
}

/// `status`: every model version with judged forecasts, narrowed to a model and/or a site.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusRequest {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub site: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReply {
    pub versions: Vec<VersionStatus>,
    /// Open incidents in the requested scope.
    pub open_incidents: Vec<IncidentRecord>,
}

/// One model version's live figures, over windows of target time ending at the newest judged
/// window of any of its devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionStatus {
    pub model: String,
    pub version: u32,
    pub devices: u64,
    pub latest_window: DateTime<Utc>,
    /// The last hour, day and week.
    pub windows: Vec<LiveError>,
}

/// The paired live error over one span of target time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveError {
    /// "1h", "24h", "7d".
    pub span: String,
    pub judged: u64,
    pub model_rmse: Option<f64>,
    pub persistence_rmse: Option<f64>,
    /// `1 - mse(model) / mse(persistence)`: above 0 beats persistence.
    pub skill: Option<f64>,
}

/// `incidents`: the newest first, open ones only if asked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IncidentsRequest {
    #[serde(default)]
    pub open_only: bool,
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    pub incident: Uuid,
    pub kind: IncidentKind,
    /// The scope's key (`device:s1:room-1:co2-room:3`, `site:s1`).
    pub scope: String,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub evidence: Vec<Evidence>,
}

/// What a call of the service's endpoints can end in (see [`edgeops_bus::CallError`]).
pub type ClientError = edgeops_bus::CallError;

/// A typed client of the monitoring endpoints.
#[derive(Debug, Clone)]
pub struct MonitoringClient {
    nats: async_nats::Client,
}

impl MonitoringClient {
    pub fn new(nats: async_nats::Client) -> Self {
        Self { nats }
    }

    pub async fn status(&self, request: &StatusRequest) -> Result<StatusReply, ClientError> {
        edgeops_bus::service::call(&self.nats, SERVICE_NAME, endpoints::STATUS, request).await
    }

    pub async fn incidents(
        &self,
        request: &IncidentsRequest,
    ) -> Result<Vec<IncidentRecord>, ClientError> {
        edgeops_bus::service::call(&self.nats, SERVICE_NAME, endpoints::INCIDENTS, request).await
    }
}
