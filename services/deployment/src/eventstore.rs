//! The rollout aggregate in `EVENTS`, one subject per rollout (`edgeops.events.rollout.<id>`):
//! loading it, appending with the subject sequence it was loaded at (a writer that decided on
//! a stale state gets a conflict), and [`EventStore::execute`], which decides and appends with
//! the retry policy a caller needs.
//!
//! Loaded rollouts are cached; a load first asks the stream for the subject's last sequence and
//! reads only what others appended since, so the evaluator's ticks and a burst of device
//! reports cost one request each, not a replay of the rollout.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use async_nats::jetstream::Context;
use async_nats::jetstream::stream::{LastRawMessageErrorKind, Stream};
use chrono::{DateTime, Utc};
use edgeops_bus::{HistoryError, PublishEventError, publish_event, read_subject_after};
use edgeops_contracts::envelope::{EventEnvelope, EventMeta};
use edgeops_contracts::upcast::{UpcastError, Upcasters};
use edgeops_contracts::{Actor, streams, subjects};
use uuid::Uuid;

use crate::domain::events::{EventDecodeError, SCHEMA_VERSION, register_upcasters};
use crate::domain::{AGGREGATE_KIND, Rollout, RolloutEvent, Status, apply};
use edgeops_deployment_api::HistoryEntry;

/// The project's upcasters plus the rollout's event types.
pub fn upcasters() -> &'static Upcasters {
    static UPCASTERS: LazyLock<Upcasters> =
        LazyLock::new(|| register_upcasters(edgeops_contracts::events::upcasters()));
    &UPCASTERS
}

pub fn rollout_subject(id: Uuid) -> String {
    subjects::aggregate_events(AGGREGATE_KIND, &id.to_string())
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Envelope(#[from] UpcastError),
    #[error(transparent)]
    Event(#[from] EventDecodeError),
}

/// Reads one stored rollout event, upcast to the current schema.
pub fn decode(bytes: &[u8]) -> Result<(EventMeta, RolloutEvent), DecodeError> {
    let envelope = EventEnvelope::decode(bytes, upcasters())?;
    let event = RolloutEvent::from_data(&envelope.meta.event_type, envelope.data)?;
    Ok((envelope.meta, event))
}

#[derive(Debug, thiserror::Error)]
pub enum EventStoreError {
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("reading the last event of {subject}: {reason}")]
    Last { subject: String, reason: String },
    #[error("the event at stream sequence {sequence} of {subject} is unreadable: {reason}")]
    Unreadable {
        subject: String,
        sequence: u64,
        reason: String,
    },
    #[error(transparent)]
    Publish(#[from] PublishEventError),
    #[error("encoding an event: {0}")]
    Encode(#[from] serde_json::Error),
}

impl EventStoreError {
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            EventStoreError::Publish(PublishEventError::Conflict { .. })
        )
    }
}

/// A rollout as its stream holds it.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub state: Rollout,
    /// Stream sequence of the rollout's last event; 0 while it has none.
    pub last_sequence: u64,
    pub started_at: Option<DateTime<Utc>>,
    pub started_by: Option<Actor>,
    /// When the current wave was switched: its gate window counts from here.
    pub wave_started_at: Option<DateTime<Utc>>,
    /// Every event but the devices' acknowledgements, with its actor.
    pub history: Vec<HistoryEntry>,
}

impl Loaded {
    fn record(&mut self, sequence: u64, meta: &EventMeta, event: &RolloutEvent) {
        match event {
            RolloutEvent::Started(_) => {
                self.started_at = Some(meta.occurred_at);
                self.started_by = Some(meta.actor.clone());
            }
            RolloutEvent::WaveAdvanced { .. } => self.wave_started_at = Some(meta.occurred_at),
            _ => {}
        }
        if !matches!(event, RolloutEvent::DeviceApplied { .. }) {
            self.history.push(HistoryEntry {
                sequence,
                event_type: meta.event_type.clone(),
                actor: meta.actor.clone(),
                at: meta.occurred_at,
                detail: describe(event),
            });
        }
        self.state = apply(std::mem::take(&mut self.state), event);
        self.last_sequence = sequence;
    }

    /// What was recorded after stream sequence `sequence`, device acknowledgements aside.
    pub fn history_after(&self, sequence: u64) -> Vec<HistoryEntry> {
        self.history
            .iter()
            .filter(|h| h.sequence > sequence)
            .cloned()
            .collect()
    }

    pub fn is_finished(&self) -> bool {
        matches!(
            self.state.status,
            Some(Status::Completed | Status::RolledBack | Status::Cancelled)
        )
    }
}

/// One line about an event, for the rollout's history.
pub fn describe(event: &RolloutEvent) -> String {
    match event {
        RolloutEvent::Started(s) => {
            format!("{} v{} to {} devices", s.model, s.version, s.targets.len())
        }
        RolloutEvent::WaveAdvanced { wave, devices } => {
            format!("wave {wave}: {} devices switched", devices.len())
        }
        RolloutEvent::DeviceApplied { device } => device.clone(),
        RolloutEvent::DeviceFailed { device, reason } => format!("{device}: {reason}"),
        RolloutEvent::GatePassed { wave, summary } => format!("wave {wave}: {summary}"),
        RolloutEvent::GateFailed { wave, reason } => format!("wave {wave}: {reason}"),
        RolloutEvent::RolledBack { devices, reason } => {
            format!("{} devices back: {reason}", devices.len())
        }
        RolloutEvent::Cancelled { reason } => reason.clone(),
        RolloutEvent::Paused | RolloutEvent::Resumed | RolloutEvent::Completed => String::new(),
    }
}

/// The id of the event (a device's report) that caused an event, if any.
pub type Cause<'a> = &'a (dyn Fn(&RolloutEvent) -> Option<Uuid> + Sync);

/// For events no other event caused (operator commands, the evaluator's verdicts).
pub fn uncaused(_: &RolloutEvent) -> Option<Uuid> {
    None
}

/// How [`EventStore::execute`] treats a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Decide on the latest state: reload and decide again (device reports).
    Latest,
    /// An operator's command. `Some(sequence)`: the rollout must still be where the operator
    /// saw it. `None`: progress recorded meanwhile by the service (acknowledgements, gates)
    /// is decided on again, another operator's action is not: that is the operator's to see.
    Operator(Option<u64>),
    /// No retry (the evaluator: its evidence belongs to the state it was measured on).
    Once,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError<E> {
    #[error(transparent)]
    Decide(E),
    /// The rollout moved on since the state the command was decided on.
    #[error("{}", moved_on_text(*saw, *now, by))]
    MovedOn {
        saw: u64,
        now: u64,
        by: Vec<HistoryEntry>,
    },
    #[error(transparent)]
    Store(#[from] EventStoreError),
}

fn moved_on_text(saw: u64, now: u64, by: &[HistoryEntry]) -> String {
    let what: Vec<String> = by
        .iter()
        .map(|h| {
            format!(
                "{} by {} at seq {}",
                h.event_type,
                actor_name(&h.actor),
                h.sequence
            )
        })
        .collect();
    let what = match what.is_empty() {
        true => "device acknowledgements".to_owned(),
        false => what.join(", "),
    };
    format!("the rollout moved on since sequence {saw} (now {now}): {what}; look again and retry")
}

/// `user:ana`, `service:deployment`, `device:gateway:s1`.
pub fn actor_name(actor: &Actor) -> String {
    match actor {
        Actor::User(id) => format!("user:{id}"),
        Actor::Service(id) => format!("service:{id}"),
        Actor::Device(id) => format!("device:{id}"),
    }
}

pub struct EventStore {
    js: Context,
    events: Stream<()>,
    cache: Mutex<HashMap<Uuid, Loaded>>,
}

impl EventStore {
    pub async fn new(js: Context) -> Result<Self, EventStoreError> {
        let events =
            js.get_stream_no_info(streams::EVENTS)
                .await
                .map_err(|e| EventStoreError::Last {
                    subject: streams::EVENTS.into(),
                    reason: e.to_string(),
                })?;
        Ok(Self {
            js,
            events,
            cache: Mutex::new(HashMap::new()),
        })
    }

    fn cached(&self, id: Uuid) -> Loaded {
        self.cache
            .lock()
            .map(|c| c.get(&id).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Keeps the newer of what is cached and `loaded`; finished rollouts are not kept.
    fn remember(&self, id: Uuid, loaded: &Loaded) {
        if let Ok(mut cache) = self.cache.lock() {
            if loaded.is_finished() {
                cache.remove(&id);
            } else if cache
                .get(&id)
                .is_none_or(|c| c.last_sequence < loaded.last_sequence)
            {
                cache.insert(id, loaded.clone());
            }
        }
    }

    /// The rollouts this process holds loaded: all unfinished.
    pub fn cached_ids(&self) -> Vec<Uuid> {
        self.cache
            .lock()
            .map(|c| c.keys().copied().collect())
            .unwrap_or_default()
    }

    /// The rollout as stored now (an unknown id loads as an empty, unstarted rollout).
    pub async fn load(&self, id: Uuid) -> Result<Loaded, EventStoreError> {
        let subject = rollout_subject(id);
        let mut loaded = self.cached(id);
        let last_sequence = match self.events.get_last_raw_message_by_subject(&subject).await {
            Ok(message) => message.sequence,
            Err(err) if err.kind() == LastRawMessageErrorKind::NoMessageFound => 0,
            Err(err) => {
                return Err(EventStoreError::Last {
                    subject,
                    reason: err.to_string(),
                });
            }
        };
        if last_sequence < loaded.last_sequence {
            // The stream lost what the cache holds (purged, or restored): start over.
            loaded = Loaded::default();
        }
        let unread = match last_sequence == loaded.last_sequence {
            true => vec![],
            false => {
                read_subject_after(&self.js, streams::EVENTS, &subject, loaded.last_sequence)
                    .await?
            }
        };
        for (sequence, bytes) in unread {
            let (meta, event) = decode(&bytes).map_err(|e| EventStoreError::Unreadable {
                subject: subject.clone(),
                sequence,
                reason: e.to_string(),
            })?;
            loaded.record(sequence, &meta, &event);
        }
        self.remember(id, &loaded);
        Ok(loaded)
    }

    /// Appends `events` after `loaded.last_sequence`, each after the one before, under
    /// `actor`; returns the rollout with them applied.
    pub async fn append(
        &self,
        id: Uuid,
        loaded: &Loaded,
        events: &[RolloutEvent],
        actor: &Actor,
        cause: Cause<'_>,
    ) -> Result<Loaded, EventStoreError> {
        let mut next = loaded.clone();
        for event in events {
            let envelope = EventEnvelope {
                meta: EventMeta {
                    id: Uuid::now_v7(),
                    event_type: event.event_type().to_owned(),
                    schema_version: SCHEMA_VERSION,
                    aggregate_kind: AGGREGATE_KIND.to_owned(),
                    aggregate_id: id.to_string(),
                    occurred_at: Utc::now(),
                    causation_id: cause(event),
                    // Every event of a rollout is in the rollout's flow, as are the devices'
                    // reports about it.
                    correlation_id: id,
                    actor: actor.clone(),
                },
                data: event.to_data()?,
            };
            match publish_event(&self.js, &envelope, Some(next.last_sequence)).await {
                Ok(ack) => next.record(ack.sequence, &envelope.meta, event),
                Err(err) => {
                    self.remember(id, &next);
                    return Err(err.into());
                }
            }
        }
        self.remember(id, &next);
        Ok(next)
    }

    /// Loads, decides with `decide` and appends, handling a conflict as `expect` says.
    /// Returns the rollout after the append and the events appended (none: nothing to do).
    pub async fn execute<E>(
        &self,
        id: Uuid,
        actor: &Actor,
        cause: Cause<'_>,
        expect: Expect,
        decide: impl Fn(&Loaded) -> Result<Vec<RolloutEvent>, E>,
    ) -> Result<(Loaded, Vec<RolloutEvent>), ExecError<E>> {
        let mut attempts = 0;
        let mut base: Option<u64> = match expect {
            Expect::Operator(seen) => seen,
            _ => None,
        };
        loop {
            attempts += 1;
            let loaded = self.load(id).await?;
            if let Some(saw) = base {
                let by = loaded.history_after(saw);
                let strict = matches!(expect, Expect::Operator(Some(_)));
                let operator_acted = by.iter().any(|h| matches!(h.actor, Actor::User(_)));
                if (strict && loaded.last_sequence != saw) || operator_acted {
                    return Err(ExecError::MovedOn {
                        saw,
                        now: loaded.last_sequence,
                        by,
                    });
                }
            }
            let events = decide(&loaded).map_err(ExecError::Decide)?;
            if events.is_empty() {
                return Ok((loaded, events));
            }
            match self.append(id, &loaded, &events, actor, cause).await {
                Ok(next) => return Ok((next, events)),
                Err(err) if err.is_conflict() => {
                    let retry = match expect {
                        Expect::Latest => attempts < 20,
                        Expect::Operator(None) => attempts < 10,
                        Expect::Operator(Some(_)) | Expect::Once => false,
                    };
                    if !retry {
                        let now = self.load(id).await?;
                        let saw = loaded.last_sequence;
                        return Err(ExecError::MovedOn {
                            saw,
                            now: now.last_sequence,
                            by: now.history_after(saw),
                        });
                    }
                    if matches!(expect, Expect::Operator(None)) && base.is_none() {
                        base = Some(loaded.last_sequence);
                    }
                }
                Err(err) => return Err(err.into()),
            }
        }
    }
}
