//! `edgeops train`: ask the training service for a run, follow it, and show how each candidate
//! did against the persistence baseline.

use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::Context;
use chrono::{DateTime, Utc};
use edgeops_contracts::training::{
    RUN_AGGREGATE, RunAccepted, RunCommand, RunRequest, Scope, TrainingCompleted, TrainingFailed,
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
    println!(
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
    println!(
        "  {:<26} {:>10} {:>10} {:>8} {:>18}",
        "forecast", "RMSE", "MAE", "MASE", "vs persistence"
    );
    let row = |name: &str, rmse: f64, mae: f64, mase: f64| {
        let skill = 100.0 * (1.0 - rmse / done.persistence.rmse);
        println!("  {name:<26} {rmse:>10.3} {mae:>10.3} {mase:>8.3} {skill:>+17.1}%");
    };
    row(
        "persistence (baseline)",
        done.persistence.rmse,
        done.persistence.mae,
        done.persistence.mase,
    );
    if let Some(s) = &done.seasonal_naive {
        row("seasonal naive (1 day)", s.rmse, s.mae, s.mase);
    }
    for c in &done.candidates {
        let name = if c.name == done.winner {
            format!("{} *", c.name)
        } else {
            c.name.clone()
        };
        row(&name, c.holdout.rmse, c.holdout.mae, c.holdout.mase);
    }
    if let Some(incumbent) = &done.incumbent {
        let name = format!("prod v{} (incumbent)", incumbent.version);
        row(
            &name,
            incumbent.holdout.rmse,
            incumbent.holdout.mae,
            incumbent.holdout.mase,
        );
    }
    println!(
        "  * winner, exported to ONNX: {}/{} ({} bytes, sha256 {}…); ONNX Runtime matches it within {:.0e}×(1+|y|) on all {} holdout rows (max |diff| {:.2e})",
        done.artifact.bucket,
        done.artifact.object,
        done.artifact.size_bytes,
        &done.artifact.sha256[..12.min(done.artifact.sha256.len())],
        done.export_check.tolerance,
        done.export_check.rows,
        done.export_check.max_abs_diff
    );
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
