//! The registry's answers as text tables. Pure functions returning strings, so the layout is
//! tested without a registry.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use edgeops_contracts::Actor;
use edgeops_registry_api::{ModelSummary, VersionDetail, VersionSummary};

/// Left-aligned columns, each as wide as its widest cell, two spaces apart.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let text: Vec<String> = cells
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(text.join("  ").trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

fn when(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "-".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

fn number(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"))
}

fn actor(actor: &Actor) -> String {
    match actor {
        Actor::User(name) => name.clone(),
        Actor::Service(name) => format!("service {name}"),
        Actor::Device(name) => format!("device {name}"),
    }
}

pub fn models(models: &[ModelSummary]) -> String {
    if models.is_empty() {
        return "no models registered yet\n".to_owned();
    }
    let rows: Vec<Vec<String>> = models
        .iter()
        .map(|m| {
            let serving: Vec<String> = m
                .serving
                .iter()
                .map(|s| format!("{} v{}", s.scope, s.version))
                .collect();
            vec![
                m.model.clone(),
                m.versions.to_string(),
                format!("v{}", m.latest_version),
                if serving.is_empty() {
                    "-".into()
                } else {
                    serving.join(", ")
                },
                when(Some(m.first_registered_at)),
            ]
        })
        .collect();
    table(
        &["MODEL", "VERSIONS", "LATEST", "IN PROD", "FIRST REGISTERED"],
        &rows,
    )
}

pub fn versions(versions: &[VersionSummary]) -> String {
    let rows: Vec<Vec<String>> = versions
        .iter()
        .map(|v| {
            vec![
                format!("v{}", v.version),
                v.stage.to_string(),
                v.scope.clone(),
                number(v.candidate_rmse),
                number(v.persistence_rmse),
                v.skill_vs_persistence()
                    .map_or_else(|| "-".into(), |s| format!("{:+.1}%", 100.0 * s)),
                if v.signed { "yes" } else { "no" }.into(),
                if v.serving { "yes" } else { "" }.into(),
                when(v.stage_since.or(Some(v.registered_at))),
            ]
        })
        .collect();
    table(
        &[
            "VERSION",
            "STAGE",
            "SCOPE",
            "RMSE",
            "PERSISTENCE",
            "SKILL",
            "SIGNED",
            "SERVING",
            "SINCE",
        ],
        &rows,
    )
}

pub fn detail(d: &VersionDetail) -> String {
    let s = &d.summary;
    let mut out = String::new();
    let serving = if s.serving { ", serving" } else { "" };
    let _ = writeln!(
        out,
        "{}/v{}  {}{serving}  scope {}",
        s.model, s.version, s.stage, s.scope
    );
    let _ = writeln!(
        out,
        "artifact  {} ({} bytes, sha256 {})",
        d.artifact.object_name, d.artifact.size_bytes, d.artifact.sha256
    );
    let _ = writeln!(
        out,
        "features  {} v{}: {} (horizon {} bins)",
        d.feature_spec.name,
        d.feature_spec.version,
        d.feature_spec.inputs.join(", "),
        d.horizon_bins
    );
    let _ = writeln!(
        out,
        "lineage   training run {}, dataset {}, code {}",
        d.lineage.training_run, d.lineage.dataset_fingerprint, d.lineage.code_version
    );
    let signer = d.signer_key_id.as_deref().unwrap_or("not signed yet");
    let _ = writeln!(out, "signed by {signer}");
    let _ = writeln!(
        out,
        "\nholdout {} ({} rows)",
        d.holdout.fingerprint, d.holdout.rows
    );
    match &d.metrics {
        None => out.push_str("no metrics attached yet\n"),
        Some(m) => {
            let skill = |rmse: f64| format!("{:+.1}%", 100.0 * (1.0 - rmse / m.persistence.rmse));
            let mut rows = vec![
                vec![
                    "this version".into(),
                    format!("{:.3}", m.candidate.rmse),
                    format!("{:.3}", m.candidate.mae),
                    skill(m.candidate.rmse),
                ],
                vec![
                    "persistence".into(),
                    format!("{:.3}", m.persistence.rmse),
                    format!("{:.3}", m.persistence.mae),
                    "baseline".into(),
                ],
            ];
            if let Some(seasonal) = &m.seasonal_naive {
                rows.push(vec![
                    "seasonal naive".into(),
                    format!("{:.3}", seasonal.rmse),
                    format!("{:.3}", seasonal.mae),
                    skill(seasonal.rmse),
                ]);
            }
            if let Some(incumbent) = &m.incumbent {
                rows.push(vec![
                    format!("prod v{} here", incumbent.version),
                    format!("{:.3}", incumbent.rmse),
                    "-".into(),
                    skill(incumbent.rmse),
                ]);
            }
            out.push_str(&table(
                &["FORECAST", "RMSE", "MAE", "VS PERSISTENCE"],
                &rows,
            ));
        }
    }
    out.push_str("\nstage history\n");
    let mut history = vec![vec![
        when(Some(s.registered_at)),
        "registered in dev".into(),
        String::new(),
    ]];
    for change in &d.stage_history {
        history.push(vec![
            when(Some(change.at)),
            format!(
                "{} -> {} by {}",
                change.from,
                change.to,
                actor(&change.actor)
            ),
            change.reason.clone(),
        ]);
    }
    for failure in &d.gate_failures {
        history.push(vec![
            when(Some(failure.at)),
            format!("refused {}", failure.to),
            failure.reason.clone(),
        ]);
    }
    history[1..].sort_by(|a, b| a[0].cmp(&b[0]));
    out.push_str(&table(&["WHEN", "WHAT", "WHY"], &history));
    out
}

#[cfg(test)]
mod tests {
    use edgeops_registry_api::Stage;

    use super::*;

    #[test]
    fn columns_line_up_and_trailing_blanks_are_trimmed() {
        let rows = vec![
            vec!["co2-room".to_owned(), "12".to_owned(), String::new()],
            vec!["a".to_owned(), "3".to_owned(), String::new()],
        ];
        let text = table(&["MODEL", "N", ""], &rows);
        assert_eq!(text, "MODEL     N\nco2-room  12\na         3\n");
    }

    fn version(number: u32, stage: Stage, serving: bool) -> VersionSummary {
        let at = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        VersionSummary {
            model: "co2-30min".into(),
            version: number,
            scope: "site:s1".into(),
            stage,
            stage_since: None,
            registered_at: at,
            candidate_rmse: Some(40.0),
            persistence_rmse: Some(50.0),
            signed: true,
            serving,
        }
    }

    #[test]
    fn every_column_of_the_versions_table_has_a_header() {
        let text = versions(&[version(2, Stage::Dev, false), version(1, Stage::Prod, true)]);
        let lines: Vec<&str> = text.lines().collect();
        let headers: Vec<&str> = lines[0].split_whitespace().collect();
        assert_eq!(
            headers,
            [
                "VERSION",
                "STAGE",
                "SCOPE",
                "RMSE",
                "PERSISTENCE",
                "SKILL",
                "SIGNED",
                "SERVING",
                "SINCE"
            ]
        );
        // The serving version's "yes" sits under SERVING, the other's cell is blank.
        let serving_at = lines[0].find("SERVING").unwrap();
        assert_eq!(&lines[2][serving_at..serving_at + 3], "yes");
        assert_eq!(&lines[1][serving_at..serving_at + 3], "   ");
        assert!(lines[2].starts_with("v1 "), "{text}");
    }

    #[test]
    fn an_empty_registry_says_so() {
        assert_eq!(models(&[]), "no models registered yet\n");
    }
}
