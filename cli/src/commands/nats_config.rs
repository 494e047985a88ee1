//! `edgeops nats-config`: print or write the nats-server config of the hub or of a site.

use std::path::PathBuf;

use edgeops_contracts::SiteId;

use edgeops_testkit::nats_config::{Listen, hub_config, leaf_config};

#[derive(Debug, Clone, clap::Args)]
pub struct ListenArgs {
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    #[arg(long)]
    pub client_port: u16,
    #[arg(long)]
    pub monitor_port: u16,
    /// JetStream store directory.
    #[arg(long)]
    pub store_dir: String,
    #[arg(long, default_value = "20GB")]
    pub max_file_store: String,
    /// MQTT listener port (leaf servers; sensors publish to edgeops/raw/<site>/<device>).
    #[arg(long, default_value_t = 1883)]
    pub mqtt_port: u16,
    /// Write the config here instead of printing it.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum NatsConfigCommand {
    /// The hub server.
    Hub {
        #[command(flatten)]
        listen: ListenArgs,
        /// Port edge sites' leaf connections come in on.
        #[arg(long, default_value_t = 7422)]
        leaf_port: u16,
    },
    /// One edge site's leaf server.
    Leaf {
        #[arg(long)]
        site: String,
        #[command(flatten)]
        listen: ListenArgs,
        /// The hub's leafnode URL, e.g. nats-leaf://hub.example:7422.
        #[arg(long, default_value = "nats-leaf://127.0.0.1:7422")]
        hub_leaf_url: String,
    },
}

fn listen(args: &ListenArgs) -> Listen {
    Listen {
        host: args.host.clone(),
        client_port: args.client_port,
        monitor_port: args.monitor_port,
        store_dir: args.store_dir.clone(),
        max_file_store: args.max_file_store.clone(),
        mqtt_port: args.mqtt_port,
    }
}

pub fn run(command: NatsConfigCommand) -> anyhow::Result<()> {
    let (text, out) = match command {
        NatsConfigCommand::Hub {
            listen: args,
            leaf_port,
        } => (hub_config("hub", &listen(&args), leaf_port), args.out),
        NatsConfigCommand::Leaf {
            site,
            listen: args,
            hub_leaf_url,
        } => (
            leaf_config(&SiteId::parse(site)?, &listen(&args), &hub_leaf_url),
            args.out,
        ),
    };
    match out {
        Some(path) => std::fs::write(&path, text)?,
        None => print!("{text}"),
    }
    Ok(())
}
