//! `edgeops provision`: create or update the hub's streams, consumers and buckets.

use edgeops_bus::topology::{HubSettings, hub_topology};

use super::HubArgs;

pub async fn run(hub: &HubArgs) -> anyhow::Result<()> {
    let js = hub.jetstream().await?;
    let report = edgeops_bus::provision(&js, &hub_topology(&HubSettings::default())).await?;
    for (label, resources) in [
        ("created", &report.created),
        ("updated", &report.updated),
        ("unchanged", &report.unchanged),
    ] {
        for resource in resources {
            println!("{label:>9}  {resource}");
        }
    }
    Ok(())
}
