//! The training-run aggregate: requested -> started -> completed | failed. Pure: `decide` turns a
//! command into events given the run's state, `apply` folds events into state. A run redelivered
//! after a crash finds its state in the stream and resumes or skips instead of running twice.

use edgeops_contracts::training::{
    TrainingCompleted, TrainingFailed, TrainingRequested, TrainingStarted,
};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    Requested(TrainingRequested),
    Started(TrainingStarted),
    Completed(Box<TrainingCompleted>),
    Failed(TrainingFailed),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub enum RunState {
    #[default]
    Unknown,
    Requested(TrainingRequested),
    Started(TrainingRequested),
    Finished,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunCommand {
    Start,
    Complete(Box<TrainingCompleted>),
    Fail(TrainingFailed),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    #[error("run was never requested")]
    NotRequested,
    #[error("run already finished")]
    AlreadyFinished,
    #[error("run has not started")]
    NotStarted,
}

pub fn decide(state: &RunState, command: RunCommand) -> Result<Vec<RunEvent>, RunError> {
    match (state, command) {
        (RunState::Unknown, _) => Err(RunError::NotRequested),
        (RunState::Finished, _) => Err(RunError::AlreadyFinished),
        (RunState::Requested(requested), RunCommand::Start) => {
            Ok(vec![RunEvent::Started(TrainingStarted {
                run: requested.run,
            })])
        }
        // A started run that is started again was interrupted (the process died): go on.
        (RunState::Started(_), RunCommand::Start) => Ok(vec![]),
        (RunState::Requested(_), RunCommand::Complete(_)) => Err(RunError::NotStarted),
        (RunState::Started(_), RunCommand::Complete(done)) => Ok(vec![RunEvent::Completed(done)]),
        (RunState::Requested(_) | RunState::Started(_), RunCommand::Fail(failed)) => {
            Ok(vec![RunEvent::Failed(failed)])
        }
    }
}

pub fn apply(state: RunState, event: &RunEvent) -> RunState {
    match (state, event) {
        (RunState::Unknown, RunEvent::Requested(requested)) => {
            RunState::Requested(requested.clone())
        }
        (RunState::Requested(requested), RunEvent::Started(_)) => RunState::Started(requested),
        (_, RunEvent::Completed(_) | RunEvent::Failed(_)) => RunState::Finished,
        (state, _) => state,
    }
}

/// A stored event of a run, by its envelope type; other types are not run events.
pub fn decode(event_type: &str, data: Value) -> Option<Result<RunEvent, serde_json::Error>> {
    use edgeops_contracts::envelope::EventData;
    let parsed = match event_type {
        TrainingRequested::EVENT_TYPE => serde_json::from_value(data).map(RunEvent::Requested),
        TrainingStarted::EVENT_TYPE => serde_json::from_value(data).map(RunEvent::Started),
        TrainingCompleted::EVENT_TYPE => {
            serde_json::from_value(data).map(|d| RunEvent::Completed(Box::new(d)))
        }
        TrainingFailed::EVENT_TYPE => serde_json::from_value(data).map(RunEvent::Failed),
        _ => return None,
    };
    Some(parsed)
}

#[cfg(test)]
mod tests {
    use edgeops_contracts::training::{RunRequest, Scope, Trigger};
    use uuid::Uuid;

    use super::*;

    fn requested() -> TrainingRequested {
        TrainingRequested {
            run: Uuid::now_v7(),
            request: RunRequest {
                model: "m".into(),
                scope: Scope::parse("site:s1").unwrap(),
                spec: "indoor_air".into(),
                from: None,
                to: None,
                horizon_bins: 6,
            },
            trigger: Trigger::Command,
        }
    }

    fn failed(run: Uuid) -> TrainingFailed {
        TrainingFailed {
            run,
            code: "no_rows".into(),
            reason: "none".into(),
        }
    }

    #[test]
    fn a_requested_run_starts_once_and_resumes_after_a_crash() {
        let req = requested();
        let state = apply(RunState::Unknown, &RunEvent::Requested(req.clone()));
        let events = decide(&state, RunCommand::Start).unwrap();
        assert_eq!(
            events,
            vec![RunEvent::Started(TrainingStarted { run: req.run })]
        );
        let started = apply(state, &events[0]);
        assert_eq!(decide(&started, RunCommand::Start).unwrap(), vec![]);
    }

    #[test]
    fn a_finished_run_refuses_everything() {
        let req = requested();
        let state = apply(RunState::Unknown, &RunEvent::Requested(req.clone()));
        let done = apply(state, &RunEvent::Failed(failed(req.run)));
        assert_eq!(
            decide(&done, RunCommand::Start),
            Err(RunError::AlreadyFinished)
        );
        assert_eq!(
            decide(&done, RunCommand::Fail(failed(req.run))),
            Err(RunError::AlreadyFinished)
        );
    }

    #[test]
    fn nothing_happens_to_a_run_never_requested() {
        assert_eq!(
            decide(&RunState::Unknown, RunCommand::Start),
            Err(RunError::NotRequested)
        );
    }
}
