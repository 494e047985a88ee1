//! What a window summary must be before monitoring counts it. Anything else is dead-lettered
//! with the reason: monitoring goes on, and nothing it cannot read is counted.

use chrono::DateTime;
use edgeops_contracts::monitoring::{MAX_SUMMARY_BYTES, WindowSummary, is_window_length};
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
    let summary: WindowSummary = serde_json::from_slice(payload).map_err(not_a_summary)?;
    if summary.device != device {
        return Err(Rejection::new(
            RejectCode::SubjectMismatch,
            format!(
                "the summary is of {}/{} but arrived on {subject}",
                summary.site, summary.device
            ),
        ));
    }
    check(summary, &site, subject)
}

/// The largest pack, decompressed.
pub const MAX_PACK_BYTES: usize = 1024 * 1024;

/// One summary of a pack: its JSON as sent, and what reading it gave.
pub type PackItem = (serde_json::Value, Result<WindowSummary, Rejection>);

/// Reads a site's pack of summaries (`edgeops.summaries.<site>`: a JSON array, possibly a zstd
/// frame of it): the pack itself, or each summary with its own verdict.
pub fn read_pack(subject: &str, payload: &[u8]) -> Result<Vec<PackItem>, Rejection> {
    let site = subjects::parse_summary_pack_subject(subject).ok_or_else(|| {
        Rejection::new(
            RejectCode::InvalidSubject,
            format!("{subject:?} is not edgeops.summaries.<site>"),
        )
    })?;
    let text = edgeops_contracts::compression::decompressed(payload, MAX_PACK_BYTES)?;
    let items: Vec<serde_json::Value> = serde_json::from_slice(&text).map_err(|e| {
        Rejection::new(
            RejectCode::InvalidJson,
            format!("not a pack of window summaries (a JSON array): {e}"),
        )
    })?;
    Ok(items
        .into_iter()
        .map(|item| {
            let read = serde_json::from_value::<WindowSummary>(item.clone())
                .map_err(not_a_summary)
                .and_then(|summary| check(summary, &site, subject));
            (item, read)
        })
        .collect())
}

fn not_a_summary(e: serde_json::Error) -> Rejection {
    Rejection::new(
        RejectCode::InvalidJson,
        format!("not a window summary: {e}"),
    )
}

/// What every summary must be, however it arrived.
fn check(
    summary: WindowSummary,
    site: &edgeops_contracts::SiteId,
    subject: &str,
) -> Result<WindowSummary, Rejection> {
    if summary.site != *site {
        return Err(Rejection::new(
            RejectCode::SubjectMismatch,
            format!(
                "the summary is of {}/{} but arrived on {subject}",
                summary.site, summary.device
            ),
        ));
    }
    if !is_window_length(summary.window_secs)
        || summary.window_start.timestamp() % i64::from(summary.window_secs) != 0
    {
        return Err(Rejection::new(
            RejectCode::OutOfRange,
            format!(
                "window {} of {} s: windows are whole hours dividing a day, starting on their length",
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
