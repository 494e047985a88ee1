//! Operator commands on a version: promote and archive. Each loads the version from its stream,
//! decides, and appends with the sequence it loaded, so of two commands decided on the same
//! state only the first is recorded; the other is told to reload (409). A gate's refusal is
//! recorded as `gate_failed` events and then answered with 422.

use async_nats::jetstream::Context;
use chrono::Utc;
use edgeops_contracts::Actor;

use edgeops_eventsourcing::{EventStore, Loaded, Provenance, StoreError};
use edgeops_registry_api::{ArchiveRequest, CommandReply, PromoteRequest, codes};

use crate::domain::{
    Command, DomainError, ModelVersionEvent, ModelVersionKey, ModelVersionState, decide,
    prod_summary_for,
};
use edgeops_registry_api::{ModelName, Stage};

/// Model versions in the `EVENTS` stream, one subject per version.
pub fn versions(js: &Context) -> EventStore<ModelVersionState> {
    EventStore::new(js.clone())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// The append found the version moved on since it was loaded.
    #[error("version moved on: reload and retry ({0})")]
    MovedOn(String),
    /// The version's current state rules the command out (already there, wrong stage, ...).
    #[error("{0}")]
    StateConflict(String),
    #[error("refused by the promotion gates (recorded): {0}")]
    GateRefused(String),
    #[error("{0}")]
    Unavailable(String),
}

impl CommandError {
    /// The reply's error code ([`codes`]).
    pub fn code(&self) -> usize {
        match self {
            CommandError::BadRequest(_) => codes::BAD_REQUEST,
            CommandError::NotFound(_) => codes::NOT_FOUND,
            CommandError::MovedOn(_) | CommandError::StateConflict(_) => codes::CONFLICT,
            CommandError::GateRefused(_) => codes::GATE_REFUSED,
            CommandError::Unavailable(_) => codes::UNAVAILABLE,
        }
    }
}

impl From<StoreError> for CommandError {
    fn from(err: StoreError) -> Self {
        if err.is_conflict() {
            CommandError::MovedOn(err.to_string())
        } else {
            CommandError::Unavailable(err.to_string())
        }
    }
}

/// Wrong commands are 400, commands the version's state rules out are 409.
fn domain_error(key: &ModelVersionKey, err: DomainError) -> CommandError {
    let text = format!("{key}: {err}");
    match err {
        DomainError::NotRegistered => CommandError::NotFound(text),
        DomainError::AlreadyInStage { .. }
        | DomainError::IllegalTransition { .. }
        | DomainError::Archived
        | DomainError::NoMetrics { .. }
        | DomainError::NotSigned { .. } => CommandError::StateConflict(text),
        _ => CommandError::BadRequest(text),
    }
}

fn parse_key(model: &str, version: u32) -> Result<ModelVersionKey, CommandError> {
    let model = ModelName::parse(model).map_err(|e| CommandError::BadRequest(e.to_string()))?;
    Ok(ModelVersionKey { model, version })
}

fn operator(actor: &str) -> Result<Actor, CommandError> {
    let actor = actor.trim();
    if actor.is_empty() {
        return Err(CommandError::BadRequest(
            "name the actor: who asks is recorded with the change".into(),
        ));
    }
    Ok(Actor::User(actor.to_owned()))
}

async fn load_registered(
    js: &Context,
    key: &ModelVersionKey,
) -> Result<Loaded<ModelVersionState>, CommandError> {
    let loaded = versions(js).load(&key.aggregate_id()).await?;
    if loaded.state.version().is_none() {
        return Err(CommandError::NotFound(format!("{key} is not registered")));
    }
    Ok(loaded)
}

pub async fn promote(js: &Context, request: &PromoteRequest) -> Result<CommandReply, CommandError> {
    let key = parse_key(&request.model, request.version)?;
    let actor = operator(&request.actor)?;
    if !matches!(request.to, Stage::Staging | Stage::Prod) {
        return Err(CommandError::BadRequest(format!(
            "promote to staging or prod, not {}; withdraw a version with archive",
            request.to
        )));
    }
    let loaded = load_registered(js, &key).await?;
    let current_prod = match (request.to, loaded.state.version()) {
        (Stage::Prod, Some(candidate)) => {
            let versions = versions(js).load_under(key.model.as_str()).await?;
            prod_summary_for(candidate, versions.values())
        }
        _ => None,
    };
    let command = Command::Promote {
        to: request.to,
        current_prod,
        actor: actor.clone(),
        at: Utc::now(),
    };
    decide_and_append(js, &key, &loaded, command, &actor).await
}

pub async fn archive(js: &Context, request: &ArchiveRequest) -> Result<CommandReply, CommandError> {
    let key = parse_key(&request.model, request.version)?;
    let actor = operator(&request.actor)?;
    let loaded = load_registered(js, &key).await?;
    let command = Command::Archive {
        actor: actor.clone(),
        reason: request.reason.clone(),
        at: Utc::now(),
    };
    decide_and_append(js, &key, &loaded, command, &actor).await
}

/// Decides `command` on `loaded` and appends the outcome after `loaded.last_sequence`. Public
/// so that a test can decide on a state that has since moved on.
pub async fn decide_and_append(
    js: &Context,
    key: &ModelVersionKey,
    loaded: &Loaded<ModelVersionState>,
    command: Command,
    actor: &Actor,
) -> Result<CommandReply, CommandError> {
    let events = decide(&loaded.state, command).map_err(|e| domain_error(key, e))?;
    let appended = versions(js)
        .append(&key.aggregate_id(), loaded, &events, &Provenance::by(actor))
        .await?;
    let refusals: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            ModelVersionEvent::GateFailed(failed) => Some(failed.reason.as_str()),
            _ => None,
        })
        .collect();
    if !refusals.is_empty() {
        return Err(CommandError::GateRefused(format!(
            "{key}: {}",
            refusals.join("; ")
        )));
    }
    let reason = events
        .iter()
        .find_map(|e| match e {
            ModelVersionEvent::StageChanged(change) => Some(change.reason.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let stage = appended
        .state
        .stage()
        .ok_or_else(|| CommandError::NotFound(format!("{key} is not registered")))?;
    Ok(CommandReply {
        model: key.model.to_string(),
        version: key.version,
        stage,
        sequence: appended.last_sequence,
        reason,
    })
}
