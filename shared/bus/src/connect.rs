//! NATS connections whose state changes are logged: a disconnect, a reconnect or a slow
//! consumer otherwise happen silently.

use std::time::Duration;

use async_nats::{Client, ConnectOptions, Event};

#[derive(Debug, thiserror::Error)]
#[error("connecting to NATS at {url} as {name}: {source}")]
pub struct ConnectError {
    pub url: String,
    pub name: String,
    #[source]
    pub source: async_nats::ConnectError,
}

/// Connects as `name` (shown by `nats server report connections`). The client reconnects
/// forever after the first success; the first attempt fails fast so a wrong URL is obvious.
pub async fn connect(url: &str, name: &str) -> Result<Client, ConnectError> {
    let connection_name = name.to_owned();
    ConnectOptions::new()
        .name(name)
        .connection_timeout(Duration::from_secs(5))
        .max_reconnects(None)
        .event_callback(move |event| {
            let connection = connection_name.clone();
            async move { log_event(&connection, &event) }
        })
        .connect(url)
        .await
        .map_err(|source| ConnectError {
            url: url.to_owned(),
            name: name.to_owned(),
            source,
        })
}

fn log_event(connection: &str, event: &Event) {
    match event {
        Event::Connected => tracing::info!(connection, "nats connected"),
        Event::Disconnected => tracing::warn!(connection, "nats disconnected; reconnecting"),
        Event::LameDuckMode => tracing::warn!(connection, "nats server entering lame duck mode"),
        Event::SlowConsumer(sid) => {
            tracing::warn!(connection, sid, "nats slow consumer: messages dropped")
        }
        Event::Draining | Event::Closed => tracing::info!(connection, %event, "nats connection"),
        Event::ServerError(err) => tracing::error!(connection, error = %err, "nats server error"),
        Event::ClientError(err) => tracing::error!(connection, error = %err, "nats client error"),
    }
}
