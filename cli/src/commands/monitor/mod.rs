//! `edgeops monitor ...`: what monitoring sees of the models in the field, as NATS requests to
//! its micro service. Tables by default, monitoring's own JSON with `--json`.

pub(crate) mod output;

use anyhow::anyhow;
use edgeops_monitoring_api::{ClientError, IncidentsRequest, MonitoringClient, StatusRequest};

use super::{HubArgs, print_json};

#[derive(Debug, clap::Args)]
pub struct MonitorArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// Print monitoring's answer as JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to show; bare `edgeops monitor` is `status`.
    #[command(subcommand)]
    pub command: Option<MonitorCommand>,
}

#[derive(Debug, clap::Subcommand)]
pub enum MonitorCommand {
    /// Per model version: live error and skill vs persistence over the last hour, day and
    /// week of target time, and the open incidents.
    Status {
        /// Only this model.
        #[arg(long)]
        model: Option<String>,
        /// Only this site's devices.
        #[arg(long)]
        site: Option<String>,
    },
    /// Incidents, open first, with their evidence.
    Incidents {
        /// Only the open ones.
        #[arg(long)]
        open: bool,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

fn explain(err: ClientError) -> anyhow::Error {
    match err {
        ClientError::Request { .. } => {
            anyhow!("{err}\n(is monitoring running? `edgeops-monitoring` serves these requests)")
        }
        other => other.into(),
    }
}

pub async fn run(args: MonitorArgs) -> anyhow::Result<()> {
    let client = MonitoringClient::new(args.hub.jetstream().await?.client());
    let command = args.command.unwrap_or(MonitorCommand::Status {
        model: None,
        site: None,
    });
    match command {
        MonitorCommand::Status { model, site } => {
            let status = client
                .status(&StatusRequest { model, site })
                .await
                .map_err(explain)?;
            if args.json {
                return print_json(&status);
            }
            print!("{}", output::status(&status));
        }
        MonitorCommand::Incidents { open, limit } => {
            let incidents = client
                .incidents(&IncidentsRequest {
                    open_only: open,
                    limit: Some(limit),
                })
                .await
                .map_err(explain)?;
            if args.json {
                return print_json(&incidents);
            }
            print!("{}", output::incidents(&incidents));
        }
    }
    Ok(())
}
