//! `edgeops status`: what ingest reports, and the state of the hub's streams.

use edgeops_contracts::{streams, subjects};

use super::HubArgs;

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
    for name in [
        streams::HUB_READINGS,
        streams::DEAD_LETTERS,
        streams::EVENTS,
    ] {
        match js.get_stream(name).await {
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
        && let Ok(info) = stream
            .consumer_info(edgeops_bus::topology::INGEST_CONSUMER)
            .await
    {
        println!(
            "consumer ingest: {} pending, {} awaiting ack",
            info.num_pending, info.num_ack_pending
        );
    }
    Ok(())
}
