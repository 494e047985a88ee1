//! Deployment's public interface: what the CLI, another service or a test needs to call it.
//! Depend on this crate, never on `edgeops-deployment` (the implementation), to talk to
//! deployment; `tools/depcheck` fails the tests when a service does otherwise.
//!
//! Every endpoint lives at `edgeops.svc.deployment.<endpoint>`. A refusal is a NATS
//! micro-service error: headers `Nats-Service-Error-Code` (one of [`codes`]) and
//! `Nats-Service-Error` (why).
//!
//! | module                 | holds                                                       |
//! |------------------------|-------------------------------------------------------------|
//! | [`endpoints`], [`codes`] | endpoint names and error codes                            |
//! | [`requests`]           | request and reply bodies (start, act, status, list)         |
//! | [`client`]             | the typed client over all of them                           |
//! | [`selector`], [`strategy`], [`gate_settings`] | what a `start` request names   |
//! | [`status`]             | where a rollout stands                                      |

pub mod client;
pub mod gate_settings;
pub mod requests;
pub mod selector;
pub mod status;
pub mod strategy;

pub use client::{Act, ClientError, DeploymentClient};
pub use gate_settings::GateSettings;
pub use requests::{
    ActReply, ActRequest, HistoryEntry, ListRequest, RolloutStatus, RolloutSummary, StartReply,
    StartRequest, StatusRequest, WaveState, WaveStatus,
};
pub use selector::Selector;
pub use status::Status;
pub use strategy::{PlanError, Strategy};

/// Name of the NATS micro service (`edgeops.svc.deployment.*`) and the events' service actor.
pub const SERVICE_NAME: &str = "deployment";

/// Endpoint names under `edgeops.svc.deployment`.
pub mod endpoints {
    pub const START: &str = "start";
    pub const PAUSE: &str = "pause";
    pub const RESUME: &str = "resume";
    pub const CANCEL: &str = "cancel";
    pub const ROLLBACK: &str = "rollback";
    pub const STATUS: &str = "status";
    pub const LIST: &str = "list";
}

/// Error codes, read like their HTTP namesakes.
pub mod codes {
    /// Malformed request, bad strategy or gates, a selector naming nothing valid, nothing live
    /// among the devices selected, or a device named on its own that is silent.
    pub const BAD_REQUEST: usize = edgeops_bus::service::codes::BAD_REQUEST;
    /// No such rollout, site or model version (or its manifest is not signed yet).
    pub const NOT_FOUND: usize = edgeops_bus::service::codes::NOT_FOUND;
    /// The rollout is not where the command needs it: it moved on since the operator looked
    /// (another operator acted, or the expected sequence is stale), or its status rules the
    /// command out; or a target is already in another running rollout.
    pub const CONFLICT: usize = edgeops_bus::service::codes::CONFLICT;
    pub const INTERNAL: usize = edgeops_bus::service::codes::INTERNAL;
    /// NATS, Postgres or the registry is unavailable; retry later.
    pub const UNAVAILABLE: usize = edgeops_bus::service::codes::UNAVAILABLE;
}
