//! `edgeops site register <site>`: let a site's readings in.

use edgeops_contracts::events::SiteRegistered;
use edgeops_contracts::{Actor, SiteId};

use super::HubArgs;

#[derive(Debug, clap::Subcommand)]
pub enum SiteCommand {
    /// Register a site (or update its details); ingest accepts its readings from then on.
    Register {
        /// Site id: letters, digits, '-' and '_'.
        site: String,
        /// Human-readable name.
        #[arg(long)]
        name: Option<String>,
        /// Tags for rollout selectors (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
}

pub async fn run(hub: &HubArgs, command: SiteCommand) -> anyhow::Result<()> {
    match command {
        SiteCommand::Register { site, name, tags } => {
            let site = SiteId::parse(site)?;
            let js = hub.jetstream().await?;
            let display_name = name.unwrap_or_else(|| site.to_string());
            let actor = Actor::User(std::env::var("USER").unwrap_or_else(|_| "operator".into()));
            edgeops_bus::sites::register_site(
                &js,
                SiteRegistered {
                    site: site.clone(),
                    display_name,
                    tags,
                },
                actor,
            )
            .await?;
            println!("registered site {site}");
            Ok(())
        }
    }
}
