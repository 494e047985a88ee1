//! One file per operator command.

pub mod keys;
pub mod models;
pub mod monitor;
pub mod nats_config;
pub mod provision;
pub mod replay;
pub mod rollout;
pub mod simulate;
pub mod site;
pub mod status;
pub mod train;

/// Options every command that talks to the hub shares.
#[derive(Debug, Clone, clap::Args)]
pub struct HubArgs {
    /// NATS URL of the hub.
    #[arg(
        long,
        env = "EDGEOPS_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub nats_url: String,
}

impl HubArgs {
    pub async fn jetstream(&self) -> anyhow::Result<async_nats::jetstream::Context> {
        let client = edgeops_bus::connect(&self.nats_url, "edgeops-cli").await?;
        Ok(async_nats::jetstream::with_domain(
            client,
            edgeops_contracts::streams::HUB_DOMAIN,
        ))
    }
}

/// Prints a service's answer as pretty JSON (the `--json` of `models` and `rollout`).
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
