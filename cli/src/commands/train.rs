//! `edgeops train`: ask the training service for a run, follow it, and show how each candidate
//! did against the persistence baseline.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::Context;
use chrono::{DateTime, Utc};
use edgeops_contracts::training::{
    RUN_AGGREGATE, RunAccepted, RunCommand, RunRequest, Scope, Scores, TrainingCompleted,
    TrainingFailed,
};
use edgeops_contracts::{EventEnvelope, events::upcasters, streams, subjects};

use super::HubArgs;

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// Model name (letters, digits, '-', '_'); versions are numbered per model.
    #[arg(long)]
    pub model: String,
    /// Rows to learn from: `site:<site>` or `device:<site>:<device>`.
    #[arg(long, value_parser = |s: &str| Scope::parse(s).map_err(|e| e.to_string()))]
    pub scope: Scope,
    /// Feature spec: indoor_air, outdoor_pm25 or parking_occupancy.
    #[arg(long)]
    pub spec: String,
    /// Forecast horizon in the spec's bins (outdoor_pm25: hours).
    #[arg(long)]
    pub horizon: u32,
    /// First bin to learn from (RFC 3339); default: all.
    #[arg(long)]
    pub from: Option<DateTime<Utc>>,
    /// End of the range, exclusive (RFC 3339); default: all.
    #[arg(long)]
    pub to: Option<DateTime<Utc>>,
    /// Who asks (recorded in the run's events).
    #[arg(long, env = "USER", default_value = "operator")]
    pub actor: String,
    /// Return once the run is requested instead of following it.
    #[arg(long)]
    pub no_wait: bool,
    /// Give up following after this many seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout_secs: u64,
}

/// How a followed run ended.
pub enum RunOutcome {
    Completed(Box<TrainingCompleted>),
    Failed(TrainingFailed),
}

/// Sends the request; the training service replies with the run's id or a structured error.
pub async fn request_run(
    client: &async_nats::Client,
    request: RunRequest,
    actor: &str,
) -> anyhow::Result<uuid::Uuid> {
    let command = RunCommand {
        request,
        actor: actor.to_owned(),
    };
    let reply = client
        .request(
            subjects::service_endpoint("training", "request"),
            serde_json::to_vec(&command)?.into(),
        )
        .await
        .context("asking the training service (is it running?)")?;
    if let Some(error) = reply
        .headers
        .as_ref()
        .and_then(|h| h.get("Nats-Service-Error"))
    {
        anyhow::bail!("training refused the request: {error}");
    }
    Ok(serde_json::from_slice::<RunAccepted>(&reply.payload)?.run)
}

/// Polls the run's events until it completes or fails, printing each new stage.
pub async fn follow(
    js: &Context,
    run: uuid::Uuid,
    timeout: Duration,
) -> anyhow::Result<RunOutcome> {
    let subject = subjects::aggregate_events(RUN_AGGREGATE, &run.to_string());
    let deadline = tokio::time::Instant::now() + timeout;
    let mut seen = 0;
    loop {
        let events = edgeops_bus::read_subject(js, streams::EVENTS, &subject).await?;
        for (_, bytes) in events.iter().skip(seen) {
            let envelope = EventEnvelope::decode(bytes, &upcasters())?;
            eprintln!("  run {run}: {}", envelope.meta.event_type);
            match envelope.meta.event_type.as_str() {
                "training.completed" => {
                    let done = envelope.into_typed::<TrainingCompleted>()?.data;
                    return Ok(RunOutcome::Completed(Box::new(done)));
                }
                "training.failed" => {
                    return Ok(RunOutcome::Failed(
                        envelope.into_typed::<TrainingFailed>()?.data,
                    ));
                }
                _ => {}
            }
        }
        seen = events.len();
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("run {run} did not finish within {} s", timeout.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The run's scores as a table: every candidate and baseline on the same holdout.
pub fn print_completed(done: &TrainingCompleted) {
    print!("{}", completed_table(done));
}

/// The table [`print_completed`] prints. Candidates also show the validation RMSE the winner
/// was chosen on: the holdout only reports, so a winner can score worse there than a loser, and
/// without the column that reads like a bug.
pub fn completed_table(done: &TrainingCompleted) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "model {} | scope {} | spec {} v{} | horizon {} bins | {} training / {} holdout rows (holdout from {})",
        done.request.model,
        done.request.scope.key(),
        done.dataset.spec_name,
        done.dataset.spec_version,
        done.dataset.horizon_bins,
        done.train_rows,
        done.holdout_rows,
        done.holdout_from.format("%Y-%m-%d %H:%M")
    );
    let _ = writeln!(
        out,
        "  {:<26} {:>15} {:>12} {:>10} {:>8} {:>18}",
        "forecast", "validation RMSE", "holdout RMSE", "MAE", "MASE", "vs persistence"
    );
    let mut row = |name: &str, validation: Option<f64>, scores: &Scores| {
        let skill = 100.0 * (1.0 - scores.rmse / done.persistence.rmse);
        let validation = validation.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"));
        let _ = writeln!(
            out,
            "  {name:<26} {validation:>15} {:>12.3} {:>10.3} {:>8.3} {skill:>+17.1}%",
            scores.rmse, scores.mae, scores.mase
        );
    };
    row("persistence (baseline)", None, &done.persistence);
    if let Some(s) = &done.seasonal_naive {
        row("seasonal naive (1 day)", None, s);
    }
    for c in &done.candidates {
        let name = if c.name == done.winner {
            format!("{} *", c.name)
        } else {
            c.name.clone()
        };
        row(&name, Some(c.validation_rmse), &c.holdout);
    }
    if let Some(incumbent) = &done.incumbent {
        let name = format!("prod v{} (incumbent)", incumbent.version);
        row(&name, None, &incumbent.holdout);
    }
    let _ = writeln!(
        out,
        "  * winner: the lowest validation RMSE (the tail of the training rows); the holdout columns only report, on rows no candidate saw"
    );
    let _ = writeln!(
        out,
        "  exported to ONNX: {}/{} ({} bytes, sha256 {}…); ONNX Runtime matches it within {:.0e}×(1+|y|) on all {} holdout rows (max |diff| {:.2e})",
        done.artifact.bucket,
        done.artifact.artifact.object_name,
        done.artifact.artifact.size_bytes,
        &done.artifact.artifact.sha256[..12.min(done.artifact.artifact.sha256.len())],
        done.export_check.tolerance,
        done.export_check.rows,
        done.export_check.max_abs_diff
    );
    out
}

pub async fn run(args: TrainArgs) -> anyhow::Result<()> {
    let js = args.hub.jetstream().await?;
    let request = RunRequest {
        model: args.model,
        scope: args.scope,
        spec: args.spec,
        from: args.from,
        to: args.to,
        horizon_bins: args.horizon,
    };
    let run = request_run(&js.client(), request, &args.actor).await?;
    println!("run {run} requested");
    if args.no_wait {
        return Ok(());
    }
    match follow(&js, run, Duration::from_secs(args.timeout_secs)).await? {
        RunOutcome::Completed(done) => {
            print_completed(&done);
            Ok(())
        }
        RunOutcome::Failed(failed) => {
            anyhow::bail!("run {run} failed ({}): {}", failed.code, failed.reason)
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use edgeops_contracts::manifest::ArtifactRef;
    use edgeops_contracts::training::{
        CandidateResult, DatasetFingerprint, ExportCheck, IncumbentResult, StoredArtifact,
    };

    use super::*;

    fn scores(rmse: f64) -> Scores {
        Scores {
            rmse,
            mae: rmse * 0.8,
            mase: 0.9,
            rows: 500,
        }
    }

    fn candidate(name: &str, validation_rmse: f64, holdout_rmse: f64) -> CandidateResult {
        CandidateResult {
            name: name.into(),
            params: serde_json::json!({}),
            validation_rmse,
            holdout: scores(holdout_rmse),
            skill_vs_persistence: 1.0 - holdout_rmse / 50.0,
            fit_seconds: 0.1,
        }
    }

    /// A run whose winner (gbt, better on validation) did worse on the holdout than ridge.
    fn completed() -> TrainingCompleted {
        let scope = Scope::parse("site:s1").unwrap();
        TrainingCompleted {
            run: uuid::Uuid::from_u128(7),
            request: RunRequest {
                model: "co2-30min".into(),
                scope: scope.clone(),
                spec: "indoor_air".into(),
                from: None,
                to: None,
                horizon_bins: 6,
            },
            dataset: DatasetFingerprint {
                scope,
                from: None,
                to: None,
                spec_name: "indoor_air".into(),
                spec_version: 2,
                horizon_bins: 6,
                rows: 2_000,
                content_sha256: "d".repeat(64),
            },
            feature_names: vec!["co2_ppm".into()],
            holdout_fingerprint: "hold-1".into(),
            holdout_from: Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap(),
            train_rows: 1_500,
            holdout_rows: 500,
            persistence: scores(50.0),
            seasonal_naive: Some(scores(60.0)),
            candidates: vec![
                candidate("ridge", 45.5, 40.0),
                candidate("gbt", 41.25, 42.0),
            ],
            winner: "gbt".into(),
            incumbent: Some(IncumbentResult {
                model: "co2-30min".into(),
                version: 2,
                holdout: scores(43.0),
            }),
            artifact: StoredArtifact {
                bucket: "edgeops_models".into(),
                artifact: ArtifactRef {
                    object_name: "co2-30min/7.onnx".into(),
                    sha256: "a".repeat(64),
                    size_bytes: 123,
                },
            },
            export_check: ExportCheck {
                rows: 500,
                max_abs_diff: 0.0,
                tolerance: 1e-4,
            },
            code_version: "test".into(),
            seconds: 2.0,
            reference: Vec::new(),
        }
    }

    #[test]
    fn the_training_table_shows_the_validation_rmse_the_winner_was_chosen_on() {
        let text = completed_table(&completed());
        let lines: Vec<&str> = text.lines().collect();
        let header = lines[1];
        assert!(header.contains("validation RMSE"), "{text}");
        assert!(header.contains("holdout RMSE"), "{text}");
        let column_end = header.find("validation RMSE").unwrap() + "validation RMSE".len();
        let cell = |prefix: &str| {
            let line = lines
                .iter()
                .find(|l| l.trim_start().starts_with(prefix))
                .unwrap();
            line[..column_end]
                .split_whitespace()
                .last()
                .unwrap()
                .to_owned()
        };
        assert_eq!(cell("gbt *"), "41.250");
        assert_eq!(cell("ridge"), "45.500");
        assert_eq!(cell("persistence"), "-");
        assert_eq!(cell("prod v2"), "-");
        assert!(
            lines
                .iter()
                .any(|l| l.contains("* winner: the lowest validation RMSE")),
            "{text}"
        );
    }
}
