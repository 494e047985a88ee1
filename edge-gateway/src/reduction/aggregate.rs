//! Window aggregates: per device and metric, min/max/mean/count over fixed windows.

use chrono::{DateTime, TimeZone, Utc};

pub use edgeops_contracts::aggregate::WindowAggregate;

/// The running aggregate of the current window.
#[derive(Debug, Clone)]
pub(crate) struct Accumulator {
    window_start: i64,
    /// Whether some value of this window did not travel (else the raw rows already tell it all).
    held_back: bool,
    min: f64,
    max: f64,
    sum: f64,
    count: u64,
}

/// The start (seconds since the epoch) of the window holding `ts`.
pub(crate) fn window_of(ts: DateTime<Utc>, window_secs: i64) -> i64 {
    ts.timestamp().div_euclid(window_secs) * window_secs
}

impl Accumulator {
    pub(crate) fn new(window_start: i64, value: f64) -> Self {
        Self {
            window_start,
            held_back: false,
            min: value,
            max: value,
            sum: value,
            count: 1,
        }
    }

    pub(crate) fn window_start(&self) -> i64 {
        self.window_start
    }

    pub(crate) fn hold_back(&mut self) {
        self.held_back = true;
    }

    /// A summary is worth sending when it stands for values that did not travel, and for
    /// enough of them to be smaller than they would be.
    pub(crate) fn worth_sending(&self, min_count: u64) -> bool {
        self.held_back && self.count >= min_count.max(2)
    }

    pub(crate) fn add(&mut self, value: f64) {
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.sum += value;
        self.count += 1;
    }

    pub(crate) fn finish(&self, metric: &str, window_secs: i64) -> WindowAggregate {
        WindowAggregate {
            metric: metric.to_owned(),
            window_start: Utc
                .timestamp_opt(self.window_start, 0)
                .single()
                .unwrap_or_default(),
            window_secs,
            min: self.min,
            max: self.max,
            mean: self.sum / self.count as f64,
            count: self.count,
        }
    }
}
