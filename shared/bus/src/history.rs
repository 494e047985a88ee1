//! Reading one subject's stored messages in order: how aggregates load their events.

use std::time::Duration;

use async_nats::jetstream::{Context, consumer};
use bytes::Bytes;
use futures::StreamExt;

#[derive(Debug, thiserror::Error)]
#[error("reading {subject} from stream {stream}: {source}")]
pub struct HistoryError {
    pub stream: String,
    pub subject: String,
    #[source]
    pub source: async_nats::Error,
}

/// Every message stored on `subject` (wildcards allowed) when the call starts, as
/// (stream sequence, payload), oldest first.
pub async fn read_subject(
    js: &Context,
    stream: &str,
    subject: &str,
) -> Result<Vec<(u64, Bytes)>, HistoryError> {
    read_subject_after(js, stream, subject, 0).await
}

/// As [`read_subject`], only the messages after stream sequence `after`: how a cached
/// aggregate catches up with what others appended.
pub async fn read_subject_after(
    js: &Context,
    stream: &str,
    subject: &str,
    after: u64,
) -> Result<Vec<(u64, Bytes)>, HistoryError> {
    let failed = |source: async_nats::Error| HistoryError {
        stream: stream.to_owned(),
        subject: subject.to_owned(),
        source,
    };
    let stream_handle = js.get_stream(stream).await.map_err(|e| failed(e.into()))?;
    let mut reader = stream_handle
        .create_consumer(consumer::pull::Config {
            filter_subject: subject.to_owned(),
            deliver_policy: match after {
                0 => consumer::DeliverPolicy::All,
                _ => consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: after + 1,
                },
            },
            ack_policy: consumer::AckPolicy::None,
            inactive_threshold: Duration::from_secs(30),
            ..Default::default()
        })
        .await
        .map_err(|e| failed(e.into()))?;
    let mut pending = reader
        .info()
        .await
        .map_err(|e| failed(e.into()))?
        .num_pending as usize;
    let mut out = Vec::with_capacity(pending);
    while pending > 0 {
        let mut batch = reader
            .fetch()
            .max_messages(pending.min(1_000))
            .expires(Duration::from_secs(2))
            .messages()
            .await
            .map_err(|e| failed(e.into()))?;
        let mut got = 0;
        while let Some(message) = batch.next().await {
            let message = message.map_err(failed)?;
            let sequence = message.info().map_err(failed)?.stream_sequence;
            out.push((sequence, message.payload.clone()));
            got += 1;
        }
        if got == 0 {
            break;
        }
        pending = pending.saturating_sub(got);
    }
    let name = reader.cached_info().name.clone();
    if let Err(err) = stream_handle.delete_consumer(&name).await {
        tracing::debug!(error = %err, "ephemeral history reader not deleted; it expires");
    }
    Ok(out)
}
