//! Waiting on conditions with a deadline: never a sleep that hopes.

use std::future::Future;
use std::time::{Duration, Instant};

/// Polls `probe` until it returns `Some`, or panics after `timeout` naming what was awaited
/// and what was last seen.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, String>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let last = match probe().await {
            Ok(Some(value)) => return value,
            Ok(None) => "condition not met".to_owned(),
            Err(seen) => seen,
        };
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}; last seen: {last}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A probe result: done, or not yet with what was seen.
pub fn check(done: bool, seen: impl std::fmt::Display) -> Result<Option<()>, String> {
    if done {
        Ok(Some(()))
    } else {
        Err(seen.to_string())
    }
}
