//! Upcasting: stored events keep the shape they were written in; readers see the current
//! shape. Each step turns version N into N+1, so a reader chains as many as it needs.

use std::collections::HashMap;

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum UpcastError {
    #[error("malformed event: {0}")]
    Malformed(#[source] serde_json::Error),
    #[error("{event_type} v{found} is newer than this reader (v{supported}); upgrade the reader")]
    FromTheFuture {
        event_type: String,
        found: u32,
        supported: u32,
    },
    #[error("{event_type} v{version} has no upcaster to v{}", version + 1)]
    MissingStep { event_type: String, version: u32 },
    #[error("upcasting {event_type} v{version}: {reason}")]
    StepFailed {
        event_type: String,
        version: u32,
        reason: String,
    },
}

type Step = fn(Value) -> Result<Value, String>;

/// The registry of upcasting steps and of each event type's current version.
#[derive(Default)]
pub struct Upcasters {
    current: HashMap<&'static str, u32>,
    steps: HashMap<(&'static str, u32), Step>,
}

impl Upcasters {
    /// Declares the current version of an event type (events without steps are at version 1).
    pub fn current(mut self, event_type: &'static str, version: u32) -> Self {
        self.current.insert(event_type, version);
        self
    }

    /// Registers the step from `from_version` to `from_version + 1`.
    pub fn step(mut self, event_type: &'static str, from_version: u32, step: Step) -> Self {
        self.steps.insert((event_type, from_version), step);
        self
    }

    pub fn upcast(
        &self,
        event_type: &str,
        version: u32,
        mut data: Value,
    ) -> Result<(u32, Value), UpcastError> {
        let target = self.current.get(event_type).copied().unwrap_or(version);
        if version > target {
            return Err(UpcastError::FromTheFuture {
                event_type: event_type.to_owned(),
                found: version,
                supported: target,
            });
        }
        for v in version..target {
            let step =
                self.steps
                    .get(&(event_type, v))
                    .ok_or_else(|| UpcastError::MissingStep {
                        event_type: event_type.to_owned(),
                        version: v,
                    })?;
            data = step(data).map_err(|reason| UpcastError::StepFailed {
                event_type: event_type.to_owned(),
                version: v,
                reason,
            })?;
        }
        Ok((target, data))
    }
}
