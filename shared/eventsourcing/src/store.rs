//! Aggregates in the `EVENTS` stream, one subject per instance
//! (`edgeops.events.<kind>.<id>`): loading one by reading its subject, and appending with the
//! subject sequence it was loaded at, so a writer that decided on a stale state gets a
//! conflict instead of overwriting someone else's decision. [`EventStore::execute`] is the
//! whole loop: load, decide, append, and on a conflict what [`Expect`] says.
//!
//! A store made [`EventStore::cached`] keeps loaded instances; a load then asks the stream for
//! the subject's last sequence and reads only what others appended since, so a burst of
//! commands on one instance costs one request each, not a replay.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_nats::jetstream::Context;
use async_nats::jetstream::stream::LastRawMessageErrorKind;
use edgeops_bus::{HistoryError, PublishEventError, publish_event, read_subject_after};
use edgeops_contracts::{streams, subjects};

use crate::aggregate::{Aggregate, Loaded, Recorded, Unreadable, decode};
use crate::provenance::Provenance;
use crate::retry::{Attempts, Expect, MovedOn};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("reading the last event of {subject}: {reason}")]
    Last { subject: String, reason: String },
    #[error("{subject}: {source}")]
    Unreadable {
        subject: String,
        #[source]
        source: Unreadable,
    },
    #[error(transparent)]
    Publish(#[from] PublishEventError),
    #[error("encoding an event: {0}")]
    Encode(#[from] serde_json::Error),
}

impl StoreError {
    /// Someone else appended to the instance after it was loaded.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            StoreError::Publish(PublishEventError::Conflict { .. })
        )
    }
}

/// Why [`EventStore::execute`] recorded nothing.
#[derive(Debug, thiserror::Error)]
pub enum ExecError<E> {
    /// The aggregate refused the command.
    #[error(transparent)]
    Decide(E),
    /// The instance moved on since the state the command was decided on, and the retry policy
    /// (or its bound) says not to decide again.
    #[error(transparent)]
    MovedOn(MovedOn),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which loaded instances a cached store keeps (finished ones need not stay in memory).
pub type KeepCached<A> = fn(&A) -> bool;

/// Loaded instances by id, and which to keep.
type Cache<A> = (Mutex<HashMap<String, Loaded<A>>>, KeepCached<A>);

pub struct EventStore<A: Aggregate> {
    js: Context,
    cache: Option<Cache<A>>,
}

impl<A: Aggregate> EventStore<A> {
    /// A store that reads an instance's whole subject on every load.
    pub fn new(js: Context) -> Self {
        Self { js, cache: None }
    }

    /// A store that keeps the instances for which `keep` holds, and catches up on load.
    pub fn cached(js: Context, keep: KeepCached<A>) -> Self {
        Self {
            js,
            cache: Some((Mutex::new(HashMap::new()), keep)),
        }
    }

    pub fn subject(id: &str) -> String {
        subjects::aggregate_events(A::KIND, id)
    }

    fn cached_or_new(&self, id: &str) -> Loaded<A> {
        self.cache
            .as_ref()
            .and_then(|(cache, _)| cache.lock().ok()?.get(id).cloned())
            .unwrap_or_default()
    }

    /// Keeps the newer of what is cached and `loaded`, if the store keeps such instances.
    fn remember(&self, id: &str, loaded: &Loaded<A>) {
        let Some((cache, keep)) = &self.cache else {
            return;
        };
        if let Ok(mut cache) = cache.lock() {
            if !keep(&loaded.state) {
                cache.remove(id);
            } else if cache
                .get(id)
                .is_none_or(|c| c.last_sequence < loaded.last_sequence)
            {
                cache.insert(id.to_owned(), loaded.clone());
            }
        }
    }

    /// The instances this process holds loaded.
    pub fn cached_ids(&self) -> Vec<String> {
        self.cache
            .as_ref()
            .and_then(|(cache, _)| Some(cache.lock().ok()?.keys().cloned().collect()))
            .unwrap_or_default()
    }

    /// The instance as stored now (an unknown id loads as the default state at sequence 0).
    pub async fn load(&self, id: &str) -> Result<Loaded<A>, StoreError> {
        let subject = Self::subject(id);
        let mut loaded = self.cached_or_new(id);
        if self.cache.is_some() {
            let last = self.last_sequence(&subject).await?;
            if last < loaded.last_sequence {
                // The stream lost what the cache holds (purged, or restored): start over.
                loaded = Loaded::default();
            }
            if last == loaded.last_sequence {
                return Ok(loaded);
            }
        }
        let unread =
            read_subject_after(&self.js, streams::EVENTS, &subject, loaded.last_sequence).await?;
        let loaded = loaded
            .fold_stored(unread)
            .map_err(|source| StoreError::Unreadable { subject, source })?;
        self.remember(id, &loaded);
        Ok(loaded)
    }

    async fn last_sequence(&self, subject: &str) -> Result<u64, StoreError> {
        let failed = |reason: String| StoreError::Last {
            subject: subject.to_owned(),
            reason,
        };
        let events = self
            .js
            .get_stream_no_info(streams::EVENTS)
            .await
            .map_err(|e| failed(e.to_string()))?;
        match events.get_last_raw_message_by_subject(subject).await {
            Ok(message) => Ok(message.sequence),
            Err(err) if err.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(0),
            Err(err) => Err(failed(err.to_string())),
        }
    }

    /// Every instance whose id is `<first>.<token>` (every version of one model), by id.
    /// Lenient: an unreadable event is logged and skipped, so one damaged instance cannot
    /// block decisions that only look at the others (it stays unloadable for commands).
    pub async fn load_under(&self, first: &str) -> Result<BTreeMap<String, A>, StoreError> {
        let subject = subjects::aggregate_events_under(A::KIND, first);
        let mut instances: BTreeMap<String, A> = BTreeMap::new();
        for (sequence, bytes) in read_subject_after(&self.js, streams::EVENTS, &subject, 0).await? {
            match decode::<A>(&bytes) {
                Ok((meta, event)) => instances
                    .entry(meta.aggregate_id)
                    .or_default()
                    .apply(&event),
                Err(err) => {
                    tracing::warn!(%subject, sequence, error = %err, "skipping an unreadable event");
                }
            }
        }
        Ok(instances)
    }

    /// Appends `events` after `loaded.last_sequence`, each after the one before; returns the
    /// instance with them applied. On a failure, what was appended before it is kept in the
    /// cache (and the error says why the rest was not).
    pub async fn append(
        &self,
        id: &str,
        loaded: &Loaded<A>,
        events: &[A::Event],
        provenance: &Provenance<'_, A::Event>,
    ) -> Result<Loaded<A>, StoreError> {
        let mut next = loaded.clone();
        for event in events {
            let envelope = provenance.envelope::<A>(id, event)?;
            match publish_event(&self.js, &envelope, Some(next.last_sequence)).await {
                Ok(ack) => next.record(Recorded {
                    sequence: ack.sequence,
                    meta: envelope.meta,
                    event: event.clone(),
                }),
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
    /// Returns the instance after the append and the events appended (none: nothing to do).
    pub async fn execute<E>(
        &self,
        id: &str,
        provenance: &Provenance<'_, A::Event>,
        expect: Expect,
        decide: impl Fn(&Loaded<A>) -> Result<Vec<A::Event>, E>,
    ) -> Result<(Loaded<A>, Vec<A::Event>), ExecError<E>> {
        let mut attempts = Attempts::new(expect);
        loop {
            let loaded = self.load(id).await?;
            attempts.check(&loaded).map_err(ExecError::MovedOn)?;
            let events = decide(&loaded).map_err(ExecError::Decide)?;
            if events.is_empty() {
                return Ok((loaded, events));
            }
            match self.append(id, &loaded, &events, provenance).await {
                Ok(next) => return Ok((next, events)),
                Err(err) if err.is_conflict() => {
                    if !attempts.retry_after_conflict(&loaded) {
                        let now = self.load(id).await?;
                        return Err(ExecError::MovedOn(MovedOn::between(
                            loaded.last_sequence,
                            &now,
                        )));
                    }
                }
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// [`EventStore::execute`] with the aggregate's own [`Aggregate::decide`].
    pub async fn handle(
        &self,
        id: &str,
        command: A::Command,
        provenance: &Provenance<'_, A::Event>,
        expect: Expect,
    ) -> Result<(Loaded<A>, Vec<A::Event>), ExecError<A::Error>> {
        self.execute(id, provenance, expect, |loaded| {
            loaded.state.decide(command.clone())
        })
        .await
    }
}
