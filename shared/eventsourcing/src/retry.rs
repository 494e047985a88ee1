//! What a command does when its append conflicts (someone appended after the state it was
//! decided on): decide again on the fresh state, or stop and say what moved on. Pure, so the
//! policy is tested without NATS; [`EventStore::execute`](crate::EventStore::execute) runs it.

use edgeops_contracts::Actor;

use crate::aggregate::{Aggregate, Loaded};

/// Appends tried for [`Expect::Latest`] before giving up.
pub const LATEST_ATTEMPTS: usize = 20;
/// Appends tried for [`Expect::Operator`]`(None)` before giving up.
pub const OPERATOR_ATTEMPTS: usize = 10;

/// How a conflict is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Decide on the latest state: reload and decide again (device reports, registrations).
    Latest,
    /// An operator's command. `Some(sequence)`: the instance must still be where the operator
    /// saw it. `None`: progress recorded meanwhile by services is decided on again, another
    /// operator's action is not: that is the operator's to see.
    Operator(Option<u64>),
    /// No retry (a verdict whose evidence belongs to the state it was measured on).
    Once,
}

/// One recorded event an operator did not see, as a conflict names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub sequence: u64,
    pub event_type: String,
    pub actor: Actor,
}

/// The instance moved on since the state a command was decided on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", moved_on_text(self))]
pub struct MovedOn {
    pub kind: &'static str,
    pub saw: u64,
    pub now: u64,
    /// What was recorded in between, bookkeeping events aside.
    pub by: Vec<Change>,
    /// How the bookkeeping events are named ([`Aggregate::OUTSIDE_HISTORY`]).
    pub outside_history: &'static str,
}

impl MovedOn {
    pub fn between<A: Aggregate>(saw: u64, now: &Loaded<A>) -> Self {
        let by = now
            .history_after(saw)
            .map(|r| Change {
                sequence: r.sequence,
                event_type: r.meta.event_type.clone(),
                actor: r.meta.actor.clone(),
            })
            .collect();
        Self {
            kind: A::KIND,
            saw,
            now: now.last_sequence,
            by,
            outside_history: A::OUTSIDE_HISTORY,
        }
    }
}

fn moved_on_text(moved: &MovedOn) -> String {
    let what: Vec<String> = moved
        .by
        .iter()
        .map(|c| {
            format!(
                "{} by {} at seq {}",
                c.event_type,
                actor_name(&c.actor),
                c.sequence
            )
        })
        .collect();
    let what = match what.is_empty() {
        true => moved.outside_history.to_owned(),
        false => what.join(", "),
    };
    format!(
        "the {} moved on since sequence {} (now {}): {what}; look again and retry",
        moved.kind, moved.saw, moved.now
    )
}

/// `user:ana`, `service:deployment`, `device:gateway:s1`.
pub fn actor_name(actor: &Actor) -> String {
    match actor {
        Actor::User(id) => format!("user:{id}"),
        Actor::Service(id) => format!("service:{id}"),
        Actor::Device(id) => format!("device:{id}"),
    }
}

/// The retry policy's memory across the attempts of one command.
#[derive(Debug, Clone)]
pub struct Attempts {
    expect: Expect,
    made: usize,
    /// The sequence the command must not have moved past (as the policy reads it).
    base: Option<u64>,
}

impl Attempts {
    pub fn new(expect: Expect) -> Self {
        let base = match expect {
            Expect::Operator(seen) => seen,
            _ => None,
        };
        Self {
            expect,
            made: 0,
            base,
        }
    }

    /// Before deciding on `loaded`: whether it is a state the command may be decided on.
    pub fn check<A: Aggregate>(&mut self, loaded: &Loaded<A>) -> Result<(), MovedOn> {
        self.made += 1;
        let Some(saw) = self.base else {
            return Ok(());
        };
        let strict = matches!(self.expect, Expect::Operator(Some(_)));
        let operator_acted = loaded
            .history_after(saw)
            .any(|r| matches!(r.meta.actor, Actor::User(_)));
        if (strict && loaded.last_sequence != saw) || operator_acted {
            return Err(MovedOn::between(saw, loaded));
        }
        Ok(())
    }

    /// After an append decided on `loaded` conflicted: whether to load and decide again.
    pub fn retry_after_conflict<A: Aggregate>(&mut self, loaded: &Loaded<A>) -> bool {
        let retry = match self.expect {
            Expect::Latest => self.made < LATEST_ATTEMPTS,
            Expect::Operator(None) => self.made < OPERATOR_ATTEMPTS,
            Expect::Operator(Some(_)) | Expect::Once => false,
        };
        if retry && matches!(self.expect, Expect::Operator(None)) && self.base.is_none() {
            self.base = Some(loaded.last_sequence);
        }
        retry
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::tests::{Counter, CounterEvent, loaded_with};

    fn by(actor: Actor) -> Loaded<Counter> {
        loaded_with(&[
            (Actor::Service("s".into()), CounterEvent::Added(1)),
            (actor, CounterEvent::Added(2)),
        ])
    }

    #[test]
    fn the_latest_state_is_retried_a_bounded_number_of_times() {
        let mut attempts = Attempts::new(Expect::Latest);
        let loaded = Loaded::<Counter>::default();
        let mut retries = 0;
        while attempts.check(&loaded).is_ok() && attempts.retry_after_conflict(&loaded) {
            retries += 1;
        }
        assert_eq!(retries, LATEST_ATTEMPTS - 1);
    }

    #[test]
    fn once_never_retries() {
        let mut attempts = Attempts::new(Expect::Once);
        let loaded = Loaded::<Counter>::default();
        assert!(attempts.check(&loaded).is_ok());
        assert!(!attempts.retry_after_conflict(&loaded));
    }

    #[test]
    fn an_operator_who_saw_a_sequence_is_refused_once_it_moved() {
        let loaded = by(Actor::Service("s".into()));
        let mut attempts = Attempts::new(Expect::Operator(Some(1)));
        let moved = attempts.check(&loaded).unwrap_err();
        assert_eq!((moved.saw, moved.now), (1, 2));
        assert_eq!(moved.by[0].event_type, "counter.added");
        let mut attempts = Attempts::new(Expect::Operator(Some(2)));
        assert!(attempts.check(&loaded).is_ok());
    }

    #[test]
    fn service_progress_is_decided_on_again_another_operators_action_is_not() {
        let mut attempts = Attempts::new(Expect::Operator(None));
        let at_one = loaded_with(&[(Actor::Service("s".into()), CounterEvent::Added(1))]);
        assert!(attempts.check(&at_one).is_ok());
        assert!(attempts.retry_after_conflict(&at_one));
        assert!(attempts.check(&by(Actor::Service("s".into()))).is_ok());
        let moved = attempts.check(&by(Actor::User("bo".into()))).unwrap_err();
        assert_eq!(moved.by[0].actor, Actor::User("bo".into()));
        assert!(moved.to_string().contains("user:bo"), "{moved}");
    }

    #[test]
    fn a_conflict_explained_without_history_names_the_bookkeeping() {
        let moved = MovedOn::between(2, &by(Actor::Service("s".into())));
        assert_eq!(
            moved.to_string(),
            "the counter moved on since sequence 2 (now 2): events outside the history; look again and retry"
        );
    }
}
