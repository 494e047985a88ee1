//! The incident aggregate: one instance per scope and kind. A judgement of a window is an
//! observation; the aggregate turns observations into at most one `opened` event per incident
//! and one `recovered` to close it. Hysteresis lives in the judgement (an alarm level above a
//! clear level, see [`super::judge`]); the cool-down lives here: after a recovery, an alarm
//! within [`Observation::cool_down`] of it opens nothing.

use chrono::{DateTime, Duration, Utc};
use edgeops_contracts::monitoring::{Evidence, IncidentKind, IncidentOpened, IncidentRecovered};
use edgeops_contracts::training::{DriftDetected, Scope as TrainingScope};
use uuid::Uuid;

use super::scope::Scope;

/// What one judgement of a scope says.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Past the alarm level.
    Alarm(Vec<Evidence>),
    /// Below the clear level.
    Clear(Vec<Evidence>),
    /// Between the levels, or too little data to say.
    Unsure,
}

/// What a drift signal must carry for training to retrain on it.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrainHint {
    pub spec: String,
    pub horizon_bins: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub kind: IncidentKind,
    pub scope: Scope,
    /// The end of the window judged (or the hub's clock, for a site gone quiet).
    pub at: DateTime<Utc>,
    pub verdict: Verdict,
    /// After a recovery, how long an alarm stays unheeded.
    pub cool_down: Duration,
    pub retrain: Option<RetrainHint>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum IncidentEvent {
    Opened(IncidentOpened),
    /// A drift: the opened incident inside the signal training retrains on.
    Drift(DriftDetected),
    Recovered(IncidentRecovered),
}

impl IncidentEvent {
    pub fn opened(&self) -> Option<&IncidentOpened> {
        match self {
            IncidentEvent::Opened(opened) => Some(opened),
            IncidentEvent::Drift(drift) => drift.incident.as_ref(),
            IncidentEvent::Recovered(_) => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentState {
    /// The open incident, if any.
    pub open: Option<IncidentOpened>,
    pub last_recovered_at: Option<DateTime<Utc>>,
}

impl IncidentState {
    /// What `observation` changes: usually nothing. Every observation is decidable, so this
    /// never refuses.
    pub fn decide(&self, observation: Observation) -> Vec<IncidentEvent> {
        match (&self.open, observation.verdict.clone()) {
            (None, Verdict::Alarm(evidence)) if !self.cooling_down(&observation) => {
                vec![opened(observation, evidence)]
            }
            (Some(open), Verdict::Clear(evidence)) if observation.at >= open.at => {
                vec![IncidentEvent::Recovered(IncidentRecovered {
                    incident: open.incident,
                    kind: open.kind,
                    scope: open.scope.clone(),
                    at: observation.at,
                    evidence,
                })]
            }
            _ => Vec::new(),
        }
    }

    fn cooling_down(&self, observation: &Observation) -> bool {
        self.last_recovered_at
            .is_some_and(|recovered| observation.at < recovered + observation.cool_down)
    }

    pub fn apply(&mut self, event: &IncidentEvent) {
        match event {
            IncidentEvent::Recovered(recovered) => {
                self.open = None;
                self.last_recovered_at = Some(recovered.at);
            }
            other => self.open = other.opened().cloned(),
        }
    }
}

fn opened(observation: Observation, evidence: Vec<Evidence>) -> IncidentEvent {
    let scope = &observation.scope;
    let incident = IncidentOpened {
        incident: Uuid::now_v7(),
        kind: observation.kind,
        scope: scope.key(),
        site: scope.site().cloned(),
        device: scope.device().cloned(),
        model: scope.model().map(|(model, _)| model.to_owned()),
        version: scope.model().map(|(_, version)| version),
        at: observation.at,
        evidence,
    };
    match (observation.kind, observation.retrain, scope) {
        (
            IncidentKind::DriftDetected,
            Some(hint),
            Scope::DeviceModel {
                site,
                device,
                model,
                ..
            },
        ) => {
            let moved: Vec<&str> = incident
                .evidence
                .iter()
                .flat_map(|e| e.features.iter().map(String::as_str))
                .collect();
            IncidentEvent::Drift(DriftDetected {
                // The site's model is retrained on the site's data: one drifting room is a
                // symptom of the site, and a model per device is the exception.
                scope: TrainingScope::Site { site: site.clone() },
                model: model.clone(),
                spec: hint.spec,
                horizon_bins: hint.horizon_bins,
                reason: format!("inputs drifted at {site}/{device}: {}", moved.join(", ")),
                incident: Some(incident),
            })
        }
        _ => IncidentEvent::Opened(incident),
    }
}

#[cfg(test)]
mod tests;
