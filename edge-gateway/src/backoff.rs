//! Waiting between attempts: doubling from a first pause up to a ceiling, cut short by
//! shutdown. Every retry loop of the gateway uses it.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    ceiling: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(first: Duration, ceiling: Duration) -> Self {
        Self {
            first,
            ceiling,
            next: first,
        }
    }

    /// The pause the next [`Backoff::wait`] takes (for logging before it).
    pub fn next(&self) -> Duration {
        self.next
    }

    /// After a success: the next failure waits the first pause again.
    pub fn reset(&mut self) {
        self.next = self.first;
    }

    /// Waits the next pause, or until `shutdown`; returns whether shutdown came first. The
    /// pause after it is twice as long, up to the ceiling.
    pub async fn wait(&mut self, shutdown: &CancellationToken) -> bool {
        let pause = self.next;
        self.next = (self.next * 2).min(self.ceiling);
        tokio::select! {
            () = tokio::time::sleep(pause) => false,
            () = shutdown.cancelled() => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pauses_double_to_the_ceiling_and_a_reset_starts_over() {
        let shutdown = CancellationToken::new();
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(350));
        let mut waited = Vec::new();
        for _ in 0..4 {
            let started = tokio::time::Instant::now();
            assert!(!backoff.wait(&shutdown).await);
            waited.push(started.elapsed().as_millis());
        }
        assert_eq!(waited, [100, 200, 350, 350]);
        backoff.reset();
        assert_eq!(backoff.next(), Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_cuts_a_pause_short() {
        let shutdown = CancellationToken::new();
        let mut backoff = Backoff::new(Duration::from_secs(60), Duration::from_secs(60));
        shutdown.cancel();
        let started = tokio::time::Instant::now();
        assert!(backoff.wait(&shutdown).await);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
