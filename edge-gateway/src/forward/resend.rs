//! When to check the hub before sending: everything a failed attempt may have delivered must be
//! checked, not just the first batch after it (a retry's first batch can be shorter than the
//! failed one). After a start, what a previous process sent is unknown: check until a batch
//! finds nothing of it on the hub (one connection delivers in order, so nothing later is there).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResendGuard {
    /// The highest local sequence a failed attempt tried to send.
    until: u64,
    /// Just started: a previous process may have sent beyond the cursor.
    after_start: bool,
}

impl ResendGuard {
    pub fn after_start() -> Self {
        Self {
            until: 0,
            after_start: true,
        }
    }

    /// Whether a batch starting at `first_sequence` must be checked against the hub.
    pub fn must_check(&self, first_sequence: u64) -> bool {
        self.after_start || first_sequence <= self.until
    }

    /// Where a batch starting at `first_sequence` must end: a retry of a failed batch ends
    /// where that batch ended, so it is planned and packed exactly as before and its hub
    /// messages carry the same ids. Then the hub's duplicate window also discards a first
    /// attempt's message that arrives late, after the check found it missing.
    pub fn batch_end(&self, first_sequence: u64) -> Option<u64> {
        (first_sequence <= self.until).then_some(self.until)
    }

    /// An attempt that sent up to `last_sequence` failed.
    pub fn failed(&mut self, last_sequence: u64) {
        self.until = self.until.max(last_sequence);
    }

    /// A checked batch found `skipped` messages already on the hub.
    pub fn checked(&mut self, skipped: usize) {
        if skipped == 0 {
            self.after_start = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_batch_a_failed_attempt_covered_is_checked() {
        let mut guard = ResendGuard::after_start();
        guard.checked(0);
        assert!(!guard.must_check(1));
        guard.failed(500);
        assert!(guard.must_check(1), "the retry's first batch");
        assert!(
            guard.must_check(101),
            "a later batch still inside the failed one"
        );
        assert!(!guard.must_check(501), "past it");
        assert_eq!(
            guard.batch_end(1),
            Some(500),
            "the retry ends where the failed batch did"
        );
        assert_eq!(guard.batch_end(501), None);
    }

    #[test]
    fn after_a_start_checking_goes_on_until_a_batch_finds_nothing_sent() {
        let mut guard = ResendGuard::after_start();
        assert!(guard.must_check(1));
        guard.checked(120);
        assert!(
            guard.must_check(200),
            "the previous process got this far at least"
        );
        guard.checked(0);
        assert!(!guard.must_check(300));
    }
}
