//! Simulated time of a `simulate` run: rounds `step` apart, never ahead of the wall clock.
//!
//! A run may start in the past and go through it faster than real time (a day of readings in
//! minutes), but a reading from the future is refused by ingest (`future_timestamp`). So a
//! round whose simulated time is still ahead of the wall clock waits for it: once simulated
//! time has caught up with now, it advances in real time. A `--count` run ends before now by
//! construction, so for it the rule never binds.

use chrono::{DateTime, Duration, Utc};

/// The simulated time of the next round.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedClock {
    next: DateTime<Utc>,
    step: Duration,
}

impl SimulatedClock {
    /// Rounds at `start`, `start + step`, ...
    pub fn new(start: DateTime<Utc>, step_secs: u32) -> Self {
        Self {
            next: start,
            step: Duration::seconds(i64::from(step_secs)),
        }
    }

    /// At wall-clock time `now`: the simulated time of the next round, which it then moves
    /// past, or, if that round would be ahead of `now`, how long to wait before asking again.
    pub fn next_round(&mut self, now: DateTime<Utc>) -> Result<DateTime<Utc>, std::time::Duration> {
        if self.next > now {
            return Err((self.next - now)
                .to_std()
                .unwrap_or(std::time::Duration::ZERO));
        }
        let round = self.next;
        self.next = round + self.step;
        Ok(round)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
    }

    #[test]
    fn rounds_in_the_past_follow_one_another_without_waiting() {
        let mut clock = SimulatedClock::new(noon() - Duration::hours(1), 60);
        let rounds: Vec<_> = (0..3).map(|_| clock.next_round(noon()).unwrap()).collect();
        assert_eq!(
            rounds,
            [0, 1, 2].map(|m| noon() - Duration::hours(1) + Duration::minutes(m))
        );
    }

    #[test]
    fn a_round_ahead_of_the_wall_clock_waits_for_it() {
        let mut clock = SimulatedClock::new(noon(), 60);
        assert_eq!(clock.next_round(noon()), Ok(noon()));
        let wait = clock.next_round(noon() + Duration::seconds(15));
        assert_eq!(wait, Err(std::time::Duration::from_secs(45)));
        // Asking again does not skip the round.
        let at = noon() + Duration::minutes(1);
        assert_eq!(clock.next_round(at), Ok(at));
    }

    /// What `edgeops simulate` without `--count` did: 8 rooms at 20 readings/s (a round every
    /// 0.4 s of real time) from a day ago, 60 simulated seconds a round. Without the wait,
    /// simulated time passed the wall clock after about 10 minutes and every reading after
    /// that was refused as `future_timestamp`.
    #[test]
    fn an_endless_run_never_gets_ahead_of_the_wall_clock() {
        let round_takes = Duration::milliseconds(400);
        let mut now = noon();
        let mut clock = SimulatedClock::new(noon() - Duration::days(1), 60);
        let (mut rounds, mut waited) = (0, false);
        while now < noon() + Duration::hours(1) {
            match clock.next_round(now) {
                Ok(at) => {
                    assert!(at <= now, "round {rounds} at {at}, wall clock {now}");
                    rounds += 1;
                    now += round_takes;
                }
                Err(wait) => {
                    waited = true;
                    now += Duration::from_std(wait).unwrap();
                }
            }
        }
        assert!(waited, "the run caught up with the wall clock");
        // A day plus an hour of rounds, each one simulated minute: no more, and no fewer.
        assert_eq!(rounds, 25 * 60);
    }
}
