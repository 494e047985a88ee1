//! The registry's public interface: what another service, the CLI or a test needs to call it.
//! Depend on this crate, never on `edgeops-registry` (the implementation), to talk to the
//! registry; `tools/depcheck` fails the tests when a service does otherwise.
//!
//! Every endpoint lives at `edgeops.svc.registry.<endpoint>`. A refusal is a NATS micro-service
//! error: headers `Nats-Service-Error-Code` (one of [`codes`]) and `Nats-Service-Error` (why).
//!
//! | module        | holds                                                                |
//! |---------------|----------------------------------------------------------------------|
//! | [`endpoints`], [`codes`] | endpoint names and error codes                            |
//! | [`requests`]  | request and reply bodies (promote, archive, models, versions, ...)   |
//! | [`prod`]      | training's `prod` query: the version serving a scope                 |
//! | [`client`]    | the typed client over all of them                                    |
//! | [`names`]     | validated model names and scopes                                     |
//! | [`stage`]     | lifecycle stages and the moves between them                          |
//! | [`gate`], [`metrics`] | the promotion gates by name, holdout scores a version carries |

pub mod client;
pub mod gate;
pub mod metrics;
pub mod names;
pub mod prod;
pub mod requests;
pub mod stage;

pub use client::{ClientError, RegistryClient};
pub use gate::Gate;
pub use metrics::{BaselineScores, CandidateScores, Holdout, HoldoutMetrics, IncumbentScore};
pub use names::{ModelName, NameError, Scope};
pub use prod::{ProdQuery, ProdReply, ProdVersion};
pub use requests::{
    ArchiveRequest, CommandReply, GateFailureRecord, ModelRequest, ModelSummary, PromoteRequest,
    Serving, StageChangeRecord, VersionDetail, VersionRequest, VersionSummary,
};
pub use stage::Stage;

/// Name of the NATS micro service (`edgeops.svc.registry.*`) and the events' service actor.
pub const SERVICE_NAME: &str = "registry";

/// Endpoint names under `edgeops.svc.registry`.
pub mod endpoints {
    pub const PROMOTE: &str = "promote";
    pub const ARCHIVE: &str = "archive";
    pub const MODELS: &str = "models";
    pub const VERSIONS: &str = "versions";
    pub const VERSION: &str = "version";
    pub const PROD: &str = "prod";
    pub const MANIFEST: &str = "manifest";
}

/// Error codes, read like their HTTP namesakes.
pub mod codes {
    /// The request is malformed, or the command makes no sense for this version.
    pub const BAD_REQUEST: usize = edgeops_bus::service::codes::BAD_REQUEST;
    /// No such model or version (or no signed manifest yet).
    pub const NOT_FOUND: usize = edgeops_bus::service::codes::NOT_FOUND;
    /// The version is not where the command needs it: it moved on while the command was
    /// decided ("version moved on: reload and retry"), or its state rules the command out
    /// (already in that stage, no such move from its stage, not scored or signed yet).
    pub const CONFLICT: usize = edgeops_bus::service::codes::CONFLICT;
    /// A promotion gate refused; the refusal is recorded as a `gate_failed` event.
    pub const GATE_REFUSED: usize = 422;
    /// A bug: the registry could not encode its own answer.
    pub const INTERNAL: usize = edgeops_bus::service::codes::INTERNAL;
    /// NATS or Postgres is unavailable; retry later.
    pub const UNAVAILABLE: usize = edgeops_bus::service::codes::UNAVAILABLE;
}
