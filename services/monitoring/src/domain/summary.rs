//! What a window summary must be before monitoring counts it. Anything else is dead-lettered
//! with the reason: monitoring goes on, and nothing it cannot read is counted.

use chrono::DateTime;
use edgeops_contracts::monitoring::{MAX_SUMMARY_BYTES, WINDOW_SECS, WindowSummary};
use edgeops_contracts::{RejectCode, Rejection, subjects};

/// Reads and checks one summary from the hub subject it arrived on.
pub fn read_summary(subject: &str, payload: &[u8]) -> Result<WindowSummary, Rejection> {
    if payload.len() > MAX_SUMMARY_BYTES {
        return Err(Rejection::new(
            RejectCode::PayloadTooLarge,
            format!(
                "a summary of {} bytes; at most {MAX_SUMMARY_BYTES}",
                payload.len()
            ),
        ));
    }
    let (site, device) = subjects::parse_summary_subject(subject).ok_or_else(|| {
        Rejection::new(
            RejectCode::InvalidSubject,
            format!("{subject:?} is not edgeops.summaries.<site>.<device>"),
        )
    })?;
    let summary: WindowSummary = serde_json::from_slice(payload).map_err(|e| {
        Rejection::new(
            RejectCode::InvalidJson,
            format!("not a window summary: {e}"),
        )
    })?;
    if summary.site != site || summary.device != device {
        return Err(Rejection::new(
            RejectCode::SubjectMismatch,
            format!(
                "the summary is of {}/{} but arrived on {subject}",
                summary.site, summary.device
            ),
        ));
    }
    if summary.window_secs != WINDOW_SECS
        || summary.window_start.timestamp() % i64::from(WINDOW_SECS) != 0
    {
        return Err(Rejection::new(
            RejectCode::OutOfRange,
            format!(
                "window {} of {} s: windows are whole hours",
                summary.window_start, summary.window_secs
            ),
        ));
    }
    if let Some(last) = summary.last_reading_at
        && (last < summary.window_start - chrono::Duration::days(366) || last > far_future())
    {
        return Err(Rejection::new(
            RejectCode::InvalidTimestamp,
            format!("last reading at {last} is not a time this summary can hold"),
        ));
    }
    for model in &summary.models {
        let token_safe = !model.model.is_empty()
            && model
                .model
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !token_safe {
            return Err(Rejection::new(
                RejectCode::OutOfRange,
                format!("{:?} is not a model name", model.model),
            ));
        }
        let sums = [model.error.sum_c, model.error.sum_b, model.error.sum_d_sq];
        if sums.iter().any(|s| !s.is_finite() || *s < 0.0) {
            return Err(Rejection::new(
                RejectCode::NotANumber,
                format!(
                    "{} v{}: squared-error sums must be finite and not negative",
                    model.model, model.version
                ),
            ));
        }
    }
    Ok(summary)
}

fn far_future() -> DateTime<chrono::Utc> {
    chrono::Utc::now() + chrono::Duration::days(366)
}

#[cfg(test)]
mod tests;
