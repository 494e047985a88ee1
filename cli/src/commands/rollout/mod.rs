//! `edgeops rollout ...`: rolling a model version out to devices, as NATS requests to the
//! deployment service. Every command is recorded with its actor (`--actor`, default `$USER`).
//! Tables by default, deployment's own JSON with `--json`.

mod output;

use std::time::Duration;

use anyhow::anyhow;
use edgeops_deployment_api::selector::parse_within;
use edgeops_deployment_api::{Act, ClientError, DeploymentClient};
use edgeops_deployment_api::{ActRequest, ListRequest, RolloutStatus, StartRequest, codes};
use edgeops_deployment_api::{GateSettings, Selector, Status, Strategy};
use uuid::Uuid;

use super::{HubArgs, print_json};

#[derive(Debug, clap::Args)]
pub struct RolloutArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// Print deployment's answer as JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: RolloutCommand,
}

/// Who acts and, optionally, the sequence they saw (`status` shows it).
#[derive(Debug, Clone, clap::Args)]
pub struct Operator {
    /// Who acts (recorded with the event).
    #[arg(long, env = "USER", default_value = "operator")]
    pub actor: String,
    /// Refuse the command if the rollout changed since this sequence (optimistic concurrency).
    #[arg(long = "expect", value_name = "SEQUENCE")]
    pub expected_sequence: Option<u64>,
}

#[derive(Debug, clap::Subcommand)]
pub enum RolloutCommand {
    /// Roll a signed model version out: canary first, then waves, each held to its gate.
    Start {
        model: String,
        #[arg(value_name = "VERSION")]
        number: u32,
        /// Every live device of this site (repeatable).
        #[arg(long = "site")]
        sites: Vec<String>,
        /// Every live device of the sites registered with this tag (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// One device, `<site>:<device>` (repeatable); refused if it is silent.
        #[arg(long = "device")]
        devices: Vec<String>,
        /// Target only devices with a reading arrived at the hub within this window (`15m`,
        /// `90s`, `2h`); silent ones are left out and listed. Default: deployment's setting
        /// (15m unless changed).
        #[arg(long, value_name = "DURATION", value_parser = parse_within)]
        live_within: Option<Duration>,
        /// Share of the targets in the canary wave.
        #[arg(long, default_value_t = 0.1)]
        canary: f64,
        /// Cumulative shares of the waves after the canary, comma-separated, ending at 1
        /// (shares not above the canary's are dropped: `--canary 1` is one wave).
        #[arg(long, value_delimiter = ',', default_values_t = [0.5, 1.0])]
        waves: Vec<f64>,
        /// Seconds a wave serves before its gate judges it.
        #[arg(long, default_value_t = 300)]
        window_secs: u64,
        /// Forecasts the wave needs judged (paired with their actual and persistence) before
        /// the live error decides; fewer is undecided, never a pass (0: acks only).
        #[arg(long, default_value_t = 30)]
        min_forecasts: u64,
        /// The wave passes once the new version's mean squared error is below this multiple of
        /// persistence's (same origins and horizon) with 95 % confidence; it fails once it is
        /// worse than persistence's with 95 % confidence.
        #[arg(long, default_value_t = 1.05)]
        max_error_ratio: f64,
        /// Devices of a wave that may fail to apply.
        #[arg(long, default_value_t = 0)]
        max_failed: usize,
        /// Seconds a wave's devices have to report before the gate fails.
        #[arg(long, default_value_t = 120)]
        apply_timeout_secs: u64,
        #[arg(long, env = "USER", default_value = "operator")]
        actor: String,
        /// Follow the rollout until it finishes.
        #[arg(long)]
        wait: bool,
    },
    /// Stop advancing waves (the gate still rolls back a failing wave).
    Pause {
        rollout: Uuid,
        #[command(flatten)]
        operator: Operator,
    },
    /// Advance waves again.
    Resume {
        rollout: Uuid,
        #[command(flatten)]
        operator: Operator,
    },
    /// Stop the rollout; switched devices keep the new version.
    Cancel {
        rollout: Uuid,
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        operator: Operator,
    },
    /// Put every switched device back on its previous version.
    Rollback {
        rollout: Uuid,
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        operator: Operator,
    },
    /// One rollout: waves, acknowledgements, gate verdicts, who did what.
    Status { rollout: Uuid },
    /// Rollouts, newest first.
    List {
        /// Only running and paused ones.
        #[arg(long)]
        active: bool,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

/// Deployment's refusal in words an operator can act on.
fn explain(err: ClientError) -> anyhow::Error {
    let ClientError::Refused { code, message } = &err else {
        return match err {
            ClientError::Request { .. } => anyhow!(
                "{err}\n(is deployment running? `edgeops-deployment` serves these requests)"
            ),
            other => other.into(),
        };
    };
    match *code {
        codes::NOT_FOUND => anyhow!("not found: {message}"),
        codes::CONFLICT => anyhow!(
            "conflict: {message}\nlook at the rollout again (`edgeops rollout status`) and retry if the change still makes sense"
        ),
        codes::BAD_REQUEST => anyhow!("bad request: {message}"),
        _ => anyhow!("deployment failed ({code}): {message}"),
    }
}

fn act_request(rollout: Uuid, operator: Operator, reason: Option<String>) -> ActRequest {
    ActRequest {
        rollout,
        actor: operator.actor,
        reason,
        expected_sequence: operator.expected_sequence,
    }
}

/// Prints a line whenever the rollout changes, until it finishes.
async fn follow(client: &DeploymentClient, rollout: Uuid) -> anyhow::Result<RolloutStatus> {
    let mut seen = 0;
    loop {
        let status = client.status(rollout).await.map_err(explain)?;
        if status.sequence != seen {
            seen = status.sequence;
            let applied: usize = status.waves.iter().map(|w| w.applied).sum();
            println!(
                "{}: wave {} of {}, {applied}/{} applied",
                output::status_word(status.status),
                status.wave + 1,
                status.waves.len(),
                status.targets
            );
        }
        if !matches!(status.status, Status::Running | Status::Paused) {
            return Ok(status);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub async fn run(args: RolloutArgs) -> anyhow::Result<()> {
    let client = DeploymentClient::new(args.hub.jetstream().await?.client());
    let json = args.json;
    let (act, rollout, operator, reason) = match args.command {
        RolloutCommand::Start {
            model,
            number,
            sites,
            tags,
            devices,
            live_within,
            canary,
            waves,
            window_secs,
            min_forecasts,
            max_error_ratio,
            max_failed,
            apply_timeout_secs,
            actor,
            wait,
        } => {
            let request = StartRequest {
                model,
                version: number,
                selector: Selector {
                    sites,
                    tags,
                    devices,
                    live_within_secs: live_within.map(|w| w.as_secs()),
                },
                strategy: Some(Strategy {
                    canary_share: canary,
                    waves: waves.into_iter().filter(|w| *w > canary).collect(),
                }),
                gates: Some(GateSettings {
                    window_secs,
                    min_forecasts,
                    max_error_ratio,
                    max_failed_devices: max_failed,
                    apply_timeout_secs,
                }),
                actor,
            };
            let reply = client.start(&request).await.map_err(explain)?;
            if json {
                print_json(&reply)?;
            } else {
                print!("{}", output::started(&reply));
            }
            if wait {
                let done = follow(&client, reply.rollout).await?;
                print!("{}", output::status(&done));
            }
            return Ok(());
        }
        RolloutCommand::Status { rollout } => {
            let status = client.status(rollout).await.map_err(explain)?;
            if json {
                return print_json(&status);
            }
            print!("{}", output::status(&status));
            return Ok(());
        }
        RolloutCommand::List { active, limit } => {
            let request = ListRequest {
                active,
                limit: Some(limit),
            };
            let rollouts = client.list(&request).await.map_err(explain)?;
            if json {
                return print_json(&rollouts);
            }
            print!("{}", output::list(&rollouts));
            return Ok(());
        }
        RolloutCommand::Pause { rollout, operator } => (Act::Pause, rollout, operator, None),
        RolloutCommand::Resume { rollout, operator } => (Act::Resume, rollout, operator, None),
        RolloutCommand::Cancel {
            rollout,
            reason,
            operator,
        } => (Act::Cancel, rollout, operator, reason),
        RolloutCommand::Rollback {
            rollout,
            reason,
            operator,
        } => (Act::Rollback, rollout, operator, reason),
    };
    let reply = client
        .act(act, &act_request(rollout, operator, reason))
        .await
        .map_err(explain)?;
    if json {
        return print_json(&reply);
    }
    println!(
        "rollout {} is {} (sequence {})",
        reply.rollout,
        output::status_word(reply.status),
        reply.sequence
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[derive(Parser)]
    #[command(version, propagate_version = true)]
    struct Cli {
        #[command(subcommand)]
        command: Top,
    }

    #[derive(clap::Subcommand)]
    enum Top {
        Rollout(RolloutArgs),
    }

    #[test]
    fn the_command_line_is_well_formed_and_parses_what_the_docs_show() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "edgeops",
            "rollout",
            "start",
            "co2-room",
            "3",
            "--site",
            "s1",
            "--site",
            "s2",
            "--tag",
            "eu",
            "--waves",
            "0.3,1",
            "--window-secs",
            "60",
            "--live-within",
            "2h",
            "--actor",
            "ana",
        ])
        .unwrap();
        let Top::Rollout(args) = cli.command;
        let RolloutCommand::Start {
            number,
            sites,
            tags,
            waves,
            window_secs,
            live_within,
            actor,
            ..
        } = args.command
        else {
            panic!("not start");
        };
        assert_eq!((number, window_secs, actor.as_str()), (3, 60, "ana"));
        assert_eq!(live_within, Some(Duration::from_secs(7_200)));
        assert_eq!(
            (sites.len(), tags, waves),
            (2, vec!["eu".to_owned()], vec![0.3, 1.0])
        );
        let id = Uuid::nil().to_string();
        let cli = Cli::try_parse_from([
            "edgeops", "rollout", "pause", &id, "--expect", "42", "--actor", "ben", "--json",
        ])
        .unwrap();
        let Top::Rollout(args) = cli.command;
        assert!(args.json);
        assert!(matches!(
            args.command,
            RolloutCommand::Pause { ref operator, .. }
                if operator.expected_sequence == Some(42) && operator.actor == "ben"
        ));
    }
}
