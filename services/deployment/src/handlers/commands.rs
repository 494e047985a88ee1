//! Operator commands: start a rollout, and pause, resume, cancel or roll one back. Each is an
//! event with the operator as its actor, appended with the rollout's sequence, so of two
//! operators acting at once on the same state only one is recorded; the other is told why
//! (409).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::Context;
use edgeops_contracts::Actor;
use edgeops_contracts::deployment::device_aggregate_id;
use edgeops_eventsourcing::{ExecError, Expect, Provenance};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::targets::live::Liveness;
use crate::domain::targets::{
    live_within, named_devices, previous_versions, select_sites, target_devices,
};
use crate::domain::{Command, Current, DeviceKey, RolloutError, Started, TargetError};
use crate::effects::{EffectError, Effects};
use crate::fleet;
use crate::projection::queries;
use crate::rollouts::{self, RolloutRecord, RolloutStore};
use edgeops_deployment_api::Act;
use edgeops_deployment_api::{ActReply, ActRequest, StartReply, StartRequest, codes};

/// What the commands need.
pub struct Deps {
    pub js: Context,
    pub pool: PgPool,
    pub store: Arc<RolloutStore>,
    pub effects: Arc<Effects>,
    /// The live window a start request gets unless it names its own.
    pub live_within: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unavailable(String),
}

impl CommandError {
    pub fn code(&self) -> usize {
        match self {
            CommandError::BadRequest(_) => codes::BAD_REQUEST,
            CommandError::NotFound(_) => codes::NOT_FOUND,
            CommandError::Conflict(_) => codes::CONFLICT,
            CommandError::Unavailable(_) => codes::UNAVAILABLE,
        }
    }
}

fn unavailable(err: impl std::fmt::Display) -> CommandError {
    CommandError::Unavailable(err.to_string())
}

fn rollout_error(id: Uuid, err: RolloutError) -> CommandError {
    match err {
        RolloutError::NotStarted => CommandError::NotFound(format!("no rollout {id}")),
        RolloutError::Plan(plan) => CommandError::BadRequest(plan.to_string()),
        err @ RolloutError::MaxErrorRatio(_) => CommandError::BadRequest(err.to_string()),
        err @ RolloutError::Overlap { .. } => CommandError::Conflict(err.to_string()),
        err @ (RolloutError::AlreadyStarted | RolloutError::WrongStatus(..)) => {
            CommandError::Conflict(format!("rollout {id}: {err}"))
        }
    }
}

fn exec_error(id: Uuid, err: ExecError<RolloutError>) -> CommandError {
    match err {
        ExecError::Decide(err) => rollout_error(id, err),
        err @ ExecError::MovedOn(_) => CommandError::Conflict(format!("rollout {id}: {err}")),
        ExecError::Store(err) => unavailable(err),
    }
}

fn target_error(err: TargetError) -> CommandError {
    match err {
        TargetError::UnknownSite(_) => CommandError::NotFound(err.to_string()),
        TargetError::OtherModel { .. } => CommandError::Conflict(err.to_string()),
        _ => CommandError::BadRequest(err.to_string()),
    }
}

fn operator(actor: &str) -> Result<Actor, CommandError> {
    match actor.trim() {
        "" => Err(CommandError::BadRequest(
            "name the actor: who asks is recorded with the change".into(),
        )),
        actor => Ok(Actor::User(actor.to_owned())),
    }
}

/// Gathers what a start is decided on (the live targets and the versions they hold, the
/// rollouts still unfinished), lets the rollout decide (strategy, gates, overlap are its
/// rules), records the start and switches the canary.
pub async fn start(deps: &Deps, request: &StartRequest) -> Result<StartReply, CommandError> {
    let actor = operator(&request.actor)?;
    edgeops_registry_api::ModelName::parse(request.model.as_str())
        .map_err(|e| CommandError::BadRequest(e.to_string()))?;

    let known = fleet::known_sites(&deps.js).await.map_err(unavailable)?;
    let sites = select_sites(&request.selector, &known).map_err(target_error)?;
    let mut probed = sites.clone();
    probed.extend(
        named_devices(&request.selector)
            .map_err(target_error)?
            .into_iter()
            .map(|(site, _)| site),
    );
    probed.sort();
    probed.dedup();
    let now = fleet::hub_now(&deps.pool).await.map_err(unavailable)?;
    let live = Liveness::new(now, live_within(&request.selector, deps.live_within))
        .ok_or_else(|| target_error(TargetError::BadWindow))?;
    // Arrivals before the devices seen: a device whose first reading lands in between is then
    // seen, never an arrival without a device.
    let arrivals = fleet::arrivals_since(&deps.pool, &probed, live.since())
        .await
        .map_err(unavailable)?;
    let seen = fleet::devices_seen(&deps.pool, &sites)
        .await
        .map_err(unavailable)?;
    let selected =
        target_devices(&request.selector, &seen, &arrivals, &live).map_err(target_error)?;
    let devices = selected.live;
    deps.effects
        .manifest(&request.model, request.version)
        .await
        .map_err(|e| match e {
            EffectError::Manifest { missing: true, .. } => CommandError::NotFound(e.to_string()),
            e => unavailable(e),
        })?;
    let keys: Vec<DeviceKey> = devices
        .iter()
        .map(|(s, d)| device_aggregate_id(s, d))
        .collect();
    let slots = deps.effects.slots(&keys).await.map_err(unavailable)?;
    let mut current = BTreeMap::new();
    for (key, slot) in keys.iter().zip(slots) {
        if let Some(desired) = &slot.desired {
            deps.effects.remember_manifest(&desired.signed);
        }
        let held = slot.desired.map(|d| Current {
            model: d.model,
            version: d.version,
        });
        current.insert(key.clone(), held);
    }
    let targets = previous_versions(&request.model, current).map_err(target_error)?;
    let unfinished = unfinished(deps).await?;

    let id = Uuid::now_v7();
    let command = Command::Start {
        rollout: id,
        model: request.model.clone(),
        version: request.version,
        targets,
        strategy: request.strategy.clone().unwrap_or_default(),
        gates: request.gates.clone().unwrap_or_default(),
        unfinished,
    };
    let (loaded, events) = deps
        .store
        .handle(
            &id.to_string(),
            command,
            &Provenance::by(&actor).in_flow(id),
            Expect::Latest,
        )
        .await
        .map_err(|e| exec_error(id, e))?;
    deps.effects.after(id, &loaded.state, &events).await;
    let started = loaded
        .state
        .started
        .as_ref()
        .ok_or_else(|| unavailable("the start was not recorded"))?;
    let counts = started.strategy.cumulative_counts(started.targets.len());
    let waves = counts
        .iter()
        .scan(0, |before, count| {
            let size = count - *before;
            *before = *count;
            Some(size)
        })
        .collect();
    tracing::info!(rollout = %id, model = %request.model, version = request.version, targets = keys.len(), silent = selected.silent.len(), "rollout started");
    Ok(StartReply {
        rollout: id,
        targets: keys.len(),
        waves,
        sequence: loaded.last_sequence,
        silent: selected.silent,
        live_within_secs: live.within().as_secs(),
    })
}

/// The rollouts not finished yet, by id: the start refuses devices one of them holds.
async fn unfinished(deps: &Deps) -> Result<BTreeMap<Uuid, Started>, CommandError> {
    let mut active: BTreeSet<Uuid> = queries::active_ids(&deps.pool)
        .await
        .map_err(unavailable)?
        .into_iter()
        .collect();
    active.extend(rollouts::cached_ids(&deps.store));
    let mut unfinished = BTreeMap::new();
    for other in active {
        let loaded = deps
            .store
            .load(&other.to_string())
            .await
            .map_err(unavailable)?;
        if loaded.is_finished() {
            continue;
        }
        if let Some(started) = loaded.state.started {
            unfinished.insert(other, started);
        }
    }
    Ok(unfinished)
}

/// Pause, resume, cancel or roll back.
pub async fn act(deps: &Deps, act: Act, request: &ActRequest) -> Result<ActReply, CommandError> {
    let actor = operator(&request.actor)?;
    let reason = || {
        request
            .reason
            .clone()
            .unwrap_or_else(|| format!("by {}", request.actor.trim()))
    };
    let command = match act {
        Act::Pause => Command::Pause,
        Act::Resume => Command::Resume,
        Act::Cancel => Command::Cancel { reason: reason() },
        Act::Rollback => Command::Rollback { reason: reason() },
    };
    let id = request.rollout;
    let expect = Expect::Operator(request.expected_sequence);
    let (loaded, events) = deps
        .store
        .handle(
            &id.to_string(),
            command,
            &Provenance::by(&actor).in_flow(id),
            expect,
        )
        .await
        .map_err(|e| exec_error(id, e))?;
    deps.effects.after(id, &loaded.state, &events).await;
    let status = loaded
        .state
        .status
        .ok_or_else(|| CommandError::NotFound(format!("no rollout {id}")))?;
    tracing::info!(rollout = %id, ?act, actor = %request.actor, ?status, "operator command recorded");
    Ok(ActReply {
        rollout: id,
        status,
        sequence: loaded.last_sequence,
    })
}
