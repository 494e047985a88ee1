//! Deployment's answers as text. Pure functions returning strings, so the layout is tested
//! without a running service.

use std::fmt::Write as _;
use std::time::Duration;

use chrono::{DateTime, Utc};
use edgeops_contracts::Actor;
use edgeops_deployment_api::Status;
use edgeops_deployment_api::selector::human;
use edgeops_deployment_api::{RolloutStatus, RolloutSummary, StartReply, WaveState};

/// Left-aligned columns, each as wide as its widest cell, two spaces apart.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(text.join("  ").trim_end());
        out.push('\n');
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn actor(actor: &Actor) -> String {
    match actor {
        Actor::User(name) => name.clone(),
        Actor::Service(name) => format!("service {name}"),
        Actor::Device(name) => format!("device {name}"),
    }
}

pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Running => "running",
        Status::Paused => "paused",
        Status::Completed => "completed",
        Status::RolledBack => "rolled back",
        Status::Cancelled => "cancelled",
    }
}

fn wave_word(state: WaveState) -> &'static str {
    match state {
        WaveState::Pending => "pending",
        WaveState::Serving => "serving, gate open",
        WaveState::Passed => "passed",
        WaveState::RolledBack => "rolled back",
        WaveState::Kept => "kept (cancelled)",
    }
}

/// Silent devices listed under a start before "and N more" (`--json` lists every one).
const SILENT_SHOWN: usize = 20;

pub fn started(reply: &StartReply) -> String {
    let waves: Vec<String> = reply.waves.iter().map(usize::to_string).collect();
    let mut out = format!(
        "rollout {} started: {} live devices in waves of {} (canary first); sequence {}\n",
        reply.rollout,
        reply.targets,
        waves.join(", "),
        reply.sequence
    );
    if !reply.silent.is_empty() {
        let within = human(Duration::from_secs(reply.live_within_secs));
        let shown = reply.silent.len().min(SILENT_SHOWN);
        let _ = writeln!(
            out,
            "left out {} silent devices (nothing reached the hub in the last {within}): {}",
            reply.silent.len(),
            reply.silent[..shown].join(", ")
        );
        if reply.silent.len() > shown {
            let _ = writeln!(
                out,
                "  and {} more (--json lists them all)",
                reply.silent.len() - shown
            );
        }
    }
    out
}

pub fn status(s: &RolloutStatus) -> String {
    let mut out = String::new();
    let by = s.started_by.as_ref().map(actor).unwrap_or_default();
    let _ = writeln!(
        out,
        "rollout {}: {} v{} to {} devices, {} (wave {} of {}), sequence {}",
        s.rollout,
        s.model,
        s.version,
        s.targets,
        status_word(s.status),
        s.wave + 1,
        s.waves.len(),
        s.sequence
    );
    if let Some(at) = s.started_at {
        let _ = writeln!(out, "started {} by {by}", when(at));
    }
    let _ = writeln!(
        out,
        "gates: window {} s; live error vs persistence at the same origins and horizon, on at least {} judged forecasts: fail if worse (95 %), pass if MSE below {:.2}x (95 %), else wait (fail after {} windows); at most {} failed, apply within {} s\n",
        s.gates.window_secs,
        s.gates.min_forecasts,
        s.gates.max_error_ratio,
        edgeops_deployment_api::gate_settings::UNDECIDED_WINDOWS,
        s.gates.max_failed_devices,
        s.gates.apply_timeout_secs
    );
    let waves: Vec<Vec<String>> = s
        .waves
        .iter()
        .map(|w| {
            vec![
                if w.wave == 0 {
                    "canary".into()
                } else {
                    w.wave.to_string()
                },
                w.devices.to_string(),
                w.applied.to_string(),
                w.failed.to_string(),
                wave_word(w.state).to_owned(),
            ]
        })
        .collect();
    out.push_str(&table(
        &["WAVE", "DEVICES", "APPLIED", "FAILED", "STATE"],
        &waves,
    ));
    out.push('\n');
    let history: Vec<Vec<String>> = s
        .history
        .iter()
        .map(|h| {
            vec![
                h.sequence.to_string(),
                when(h.at),
                h.event_type.trim_start_matches("rollout.").to_owned(),
                actor(&h.actor),
                h.detail.clone(),
            ]
        })
        .collect();
    out.push_str(&table(&["SEQ", "AT", "EVENT", "BY", "DETAIL"], &history));
    out
}

pub fn list(rollouts: &[RolloutSummary]) -> String {
    if rollouts.is_empty() {
        return "no rollouts\n".to_owned();
    }
    let rows: Vec<Vec<String>> = rollouts
        .iter()
        .map(|r| {
            vec![
                r.rollout.to_string(),
                format!("{} v{}", r.model, r.version),
                status_word(r.status).to_owned(),
                format!("{}/{}", r.wave + 1, r.waves),
                format!("{}/{}", r.applied, r.targets),
                r.failed.to_string(),
                actor(&r.started_by),
                when(r.started_at),
                r.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &[
            "ROLLOUT",
            "VERSION",
            "STATUS",
            "WAVE",
            "APPLIED",
            "FAILED",
            "BY",
            "STARTED",
            "LAST REASON",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use edgeops_deployment_api::WaveStatus;
    use edgeops_deployment_api::{GateSettings, Strategy};
    use uuid::Uuid;

    use super::*;

    #[test]
    fn status_shows_waves_and_who_did_what() {
        let at = DateTime::from_timestamp(1_767_225_600, 0).unwrap();
        let s = RolloutStatus {
            rollout: Uuid::nil(),
            model: "co2-room".into(),
            version: 3,
            status: Status::RolledBack,
            wave: 0,
            waves: vec![WaveStatus {
                wave: 0,
                devices: 2,
                applied: 2,
                failed: 0,
                state: WaveState::RolledBack,
            }],
            targets: 20,
            strategy: Strategy::default(),
            gates: GateSettings::default(),
            started_at: Some(at),
            started_by: Some(Actor::User("ana".into())),
            sequence: 9,
            history: vec![edgeops_deployment_api::HistoryEntry {
                sequence: 9,
                event_type: "rollout.gate_failed".into(),
                actor: Actor::Service("deployment".into()),
                at,
                detail: "live MSE 1.52x persistence's at the same origins and horizon (RMSE 61.7 vs 50.0): worse than persistence with 95 % confidence (z = 3.10); 140 forecasts of 2 devices, targets 2026-01-01 10:00 to 11:55 UTC (1.9 h), horizon 6 bins".into(),
            }],
        };
        let text = status(&s);
        assert!(
            text.contains("co2-room v3 to 20 devices, rolled back"),
            "{text}"
        );
        assert!(
            text.contains("canary  2        2        0       rolled back"),
            "{text}"
        );
        assert!(
            text.contains("gate_failed  service deployment  live MSE 1.52x persistence's"),
            "{text}"
        );
        assert!(
            text.contains("140 forecasts of 2 devices, targets 2026-01-01 10:00 to 11:55 UTC"),
            "{text}"
        );
        assert!(
            text.contains(
                "on at least 30 judged forecasts: fail if worse (95 %), pass if MSE below 1.05x"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_start_names_the_silent_devices_it_left_out() {
        let reply = StartReply {
            rollout: Uuid::nil(),
            targets: 2,
            waves: vec![1, 1],
            sequence: 4,
            silent: vec!["s1:room-000".into(), "s1:room-001".into()],
            live_within_secs: 900,
        };
        let text = started(&reply);
        assert!(text.contains("2 live devices in waves of 1, 1"), "{text}");
        assert!(
            text.contains(
                "left out 2 silent devices (nothing reached the hub in the last 15m): s1:room-000, s1:room-001"
            ),
            "{text}"
        );
        let all_live = StartReply {
            silent: vec![],
            ..reply
        };
        assert!(!started(&all_live).contains("silent"));
    }
}
