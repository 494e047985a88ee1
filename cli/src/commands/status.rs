//! `edgeops status`: what ingest reports, and the state of the hub's streams.

use edgeops_bus::topology::{HubSettings, INGEST_CONSUMER, hub_topology};
use edgeops_contracts::{streams, subjects};

use super::HubArgs;

/// Every stream the hub's topology provisions, in its order: a stream added there shows here
/// without a second list to keep in step.
pub fn hub_streams() -> Vec<String> {
    hub_topology(&HubSettings::default())
        .streams
        .into_iter()
        .map(|stream| stream.name)
        .collect()
}

pub async fn run(hub: &HubArgs) -> anyhow::Result<()> {
    let js = hub.jetstream().await?;
    let client = js.client();
    match client
        .request(subjects::service_endpoint("ingest", "status"), "".into())
        .await
    {
        Ok(reply) => {
            let status: serde_json::Value = serde_json::from_slice(&reply.payload)?;
            println!("ingest: {}", serde_json::to_string_pretty(&status)?);
        }
        Err(err) => println!("ingest: not answering ({err})"),
    }
    for name in hub_streams() {
        match js.get_stream(&name).await {
            Ok(mut stream) => {
                let info = stream.info().await?;
                println!(
                    "stream {name}: {} messages, {} bytes",
                    info.state.messages, info.state.bytes
                );
            }
            Err(err) => println!("stream {name}: {err}"),
        }
    }
    if let Ok(stream) = js.get_stream(streams::HUB_READINGS).await
        && let Ok(info) = stream.consumer_info(INGEST_CONSUMER).await
    {
        println!(
            "consumer ingest: {} pending, {} awaiting ack",
            info.num_pending, info.num_ack_pending
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_shows_every_hub_stream() {
        let shown = hub_streams();
        for name in [
            streams::HUB_READINGS,
            streams::HUB_AGGREGATES,
            streams::DEAD_LETTERS,
            streams::EVENTS,
            streams::HUB_FORECASTS,
        ] {
            assert!(
                shown.iter().any(|s| s == name),
                "{name} missing from {shown:?}"
            );
        }
        assert_eq!(
            shown.len(),
            hub_topology(&HubSettings::default()).streams.len()
        );
    }
}
