//! `edgeops monitor`'s tables: pure functions of monitoring's replies.

use std::fmt::Write;

use edgeops_monitoring_api::{IncidentRecord, LiveError, StatusReply};

fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
}

fn span(error: &LiveError) -> String {
    format!(
        "{} skill {} (rmse {} vs {}, n={})",
        error.span,
        number(error.skill, 2),
        number(error.model_rmse, 1),
        number(error.persistence_rmse, 1),
        error.judged
    )
}

pub fn status(reply: &StatusReply) -> String {
    let mut out = String::new();
    if reply.versions.is_empty() {
        out.push_str("no judged forecasts yet (gateways send a summary per device and hour)\n");
    }
    for version in &reply.versions {
        let _ = writeln!(
            out,
            "{} v{}: {} device{}, newest window {}",
            version.model,
            version.version,
            version.devices,
            if version.devices == 1 { "" } else { "s" },
            version.latest_window.format("%Y-%m-%d %H:%M UTC")
        );
        for window in &version.windows {
            let _ = writeln!(out, "  {}", span(window));
        }
    }
    let _ = writeln!(out, "{} open incident(s)", reply.open_incidents.len());
    out.push_str(&incidents(&reply.open_incidents));
    out
}

pub fn incidents(records: &[IncidentRecord]) -> String {
    let mut out = String::new();
    for record in records {
        let state = match record.closed_at {
            Some(closed) => format!("closed {}", closed.format("%Y-%m-%d %H:%M")),
            None => "OPEN".to_owned(),
        };
        let kind = serde_json::to_value(record.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {kind} {} since {} ({state})",
            record.scope,
            record.opened_at.format("%Y-%m-%d %H:%M")
        );
        for evidence in &record.evidence {
            let _ = writeln!(
                out,
                "    {} = {:.3} (threshold {:.3}, {} samples, vs {}){}",
                evidence.statistic,
                evidence.value,
                evidence.threshold,
                evidence.samples,
                evidence.reference,
                if evidence.features.is_empty() {
                    String::new()
                } else {
                    format!("; features: {}", evidence.features.join(", "))
                }
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use edgeops_contracts::monitoring::{Evidence, IncidentKind};
    use edgeops_monitoring_api::VersionStatus;
    use uuid::Uuid;

    use super::*;

    #[test]
    fn status_names_each_version_its_skill_and_open_incidents_with_evidence() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap();
        let reply = StatusReply {
            versions: vec![VersionStatus {
                model: "co2-room".into(),
                version: 3,
                devices: 4,
                latest_window: at,
                windows: vec![LiveError {
                    span: "24h".into(),
                    judged: 1_152,
                    model_rmse: Some(21.04),
                    persistence_rmse: Some(30.0),
                    skill: Some(0.508),
                }],
            }],
            open_incidents: vec![IncidentRecord {
                incident: Uuid::nil(),
                kind: IncidentKind::DriftDetected,
                scope: "device.s1.room-2.co2-room.v3".into(),
                opened_at: at,
                closed_at: None,
                evidence: vec![Evidence {
                    statistic: "psi".into(),
                    value: 0.91,
                    threshold: 0.25,
                    window_start: at,
                    window_end: at,
                    samples: 12,
                    reference_samples: 8_000,
                    reference: "co2-room v3".into(),
                    features: vec!["co2_lag_1".into()],
                }],
            }],
        };
        let text = status(&reply);
        assert!(text.contains("co2-room v3: 4 devices"), "{text}");
        assert!(
            text.contains("24h skill 0.51 (rmse 21.0 vs 30.0, n=1152)"),
            "{text}"
        );
        assert!(
            text.contains("drift_detected device.s1.room-2.co2-room.v3"),
            "{text}"
        );
        assert!(text.contains("(OPEN)"), "{text}");
        assert!(text.contains("features: co2_lag_1"), "{text}");
    }
}
