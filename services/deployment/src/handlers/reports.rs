//! The batch handler for `edgeops.events.device.>`: a gateway's `edge.model_applied` or
//! `edge.model_refused` that names a rollout becomes `device_applied` / `device_failed` on
//! that rollout. A batch's reports of one rollout are decided together and appended in one
//! go (each event caused by its report); a conflict with another writer is decided again on
//! the fresh state. Reports naming no rollout, or one that does not exist (desired state
//! written by hand), are acknowledged and left alone.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_nats::jetstream::Message;
use edgeops_bus::Outcome;
use edgeops_contracts::deployment::{ModelApplied, ModelRefused, device_aggregate_id};
use edgeops_contracts::envelope::EventData;
use edgeops_contracts::{Actor, EventEnvelope, RejectCode, Rejection};
use edgeops_eventsourcing::{ExecError, Expect, Provenance};
use uuid::Uuid;

use crate::SERVICE_NAME;
use crate::domain::upcasters;
use crate::domain::{Command, DeviceKey, RolloutError, RolloutEvent, apply, decide};
use crate::effects::Effects;
use crate::rollouts::RolloutStore;

pub struct ReportsHandler {
    pub store: Arc<RolloutStore>,
    pub effects: Arc<Effects>,
}

/// One report, as a command on its rollout.
struct Report {
    rollout: Uuid,
    command: Command,
    /// The report's event id, the cause of what it records.
    cause: Uuid,
}

/// Reads one message: `Ok(None)` for device events that are not about a rollout.
fn read(message: &Message) -> Result<Option<Report>, Rejection> {
    let reject = |e: &dyn std::fmt::Display| Rejection::new(RejectCode::InvalidJson, e.to_string());
    let envelope = EventEnvelope::decode(&message.payload, upcasters()).map_err(|e| reject(&e))?;
    let cause = envelope.meta.id;
    let (rollout, command) = match envelope.meta.event_type.as_str() {
        ModelApplied::EVENT_TYPE => {
            let data = envelope
                .into_typed::<ModelApplied>()
                .map_err(|e| reject(&e))?
                .data;
            let command = Command::RecordApplied {
                device: device_aggregate_id(&data.site, &data.device),
                version: data.version,
            };
            (data.rollout, command)
        }
        ModelRefused::EVENT_TYPE => {
            let data = envelope
                .into_typed::<ModelRefused>()
                .map_err(|e| reject(&e))?
                .data;
            let command = Command::RecordFailed {
                device: device_aggregate_id(&data.site, &data.device),
                version: data.version,
                reason: format!("{}: {}", data.reason.as_str(), data.detail),
            };
            (data.rollout, command)
        }
        _ => return Ok(None),
    };
    Ok(rollout.map(|rollout| Report {
        rollout,
        command,
        cause,
    }))
}

/// Decides every command in turn, each on the state the previous ones left.
fn decide_all(
    state: &crate::domain::Rollout,
    commands: &[Command],
) -> Result<Vec<RolloutEvent>, RolloutError> {
    let mut state = state.clone();
    let mut events = Vec::new();
    for command in commands {
        let decided = decide(&state, command.clone())?;
        state = decided.iter().fold(state, apply);
        events.extend(decided);
    }
    Ok(events)
}

impl edgeops_bus::BatchHandler for ReportsHandler {
    async fn handle(&self, batch: &[Message]) -> Vec<Outcome> {
        let mut outcomes = vec![Outcome::Ack; batch.len()];
        let mut by_rollout: BTreeMap<Uuid, Vec<(usize, Report)>> = BTreeMap::new();
        for (i, message) in batch.iter().enumerate() {
            match read(message) {
                Ok(Some(report)) => by_rollout
                    .entry(report.rollout)
                    .or_default()
                    .push((i, report)),
                Ok(None) => {}
                Err(rejection) => outcomes[i] = Outcome::Reject(rejection),
            }
        }
        for (rollout, reports) in by_rollout {
            if let Err(reason) = self.record(rollout, &reports).await {
                for (i, _) in &reports {
                    outcomes[*i] = Outcome::Retry {
                        reason: reason.clone(),
                    };
                }
            }
        }
        outcomes
    }
}

impl ReportsHandler {
    #[tracing::instrument(
        name = "edgeops.deployment.record_reports",
        skip(self, reports),
        fields(%rollout, reports = reports.len())
    )]
    async fn record(&self, rollout: Uuid, reports: &[(usize, Report)]) -> Result<(), String> {
        let commands: Vec<Command> = reports.iter().map(|(_, r)| r.command.clone()).collect();
        let causes: HashMap<DeviceKey, Uuid> = reports
            .iter()
            .filter_map(|(_, r)| match &r.command {
                Command::RecordApplied { device, .. } | Command::RecordFailed { device, .. } => {
                    Some((device.clone(), r.cause))
                }
                _ => None,
            })
            .collect();
        let cause = |event: &RolloutEvent| match event {
            RolloutEvent::DeviceApplied { device } | RolloutEvent::DeviceFailed { device, .. } => {
                causes.get(device).copied()
            }
            _ => None,
        };
        let actor = Actor::Service(SERVICE_NAME.into());
        let executed = self
            .store
            .execute(
                &rollout.to_string(),
                &Provenance::by(&actor).in_flow(rollout).cause_of(&cause),
                Expect::Latest,
                |loaded| decide_all(&loaded.state, &commands),
            )
            .await;
        match executed {
            Ok((loaded, events)) => {
                self.effects.after(rollout, &loaded.state, &events).await;
                tracing::debug!(%rollout, recorded = events.len(), reports = reports.len(), "device reports recorded");
                Ok(())
            }
            Err(ExecError::Decide(RolloutError::NotStarted)) => {
                tracing::debug!(%rollout, "reports about an unknown rollout ignored");
                Ok(())
            }
            Err(err) => {
                tracing::warn!(%rollout, error = %err, "recording device reports failed; will retry");
                Err(err.to_string())
            }
        }
    }
}
