//! Cutting an ordered local consumer's messages into batches.

use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use async_nats::jetstream::{self, Message};
use futures::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;

/// An ordered consumer of the site's `stream`, filtered to `filter`, from local sequence
/// `after + 1`: where every stage of the gateway resumes after its cursor.
pub async fn messages_after(
    local: &jetstream::Context,
    stream: &str,
    filter: String,
    after: u64,
) -> Result<pull::Ordered, async_nats::Error> {
    let consumer = local
        .get_stream(stream)
        .await?
        .create_consumer(pull::OrderedConfig {
            filter_subject: filter,
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: after + 1,
            },
            ..Default::default()
        })
        .await?;
    Ok(consumer.messages().await?)
}

/// How a batch is cut: at `size` (of whatever the caller counts), or `linger` after its first
/// message.
#[derive(Debug, Clone, Copy)]
pub struct BatchShape {
    pub size: usize,
    pub linger: Duration,
}

/// The next batch: messages until `take` (told each message as it arrives) says the batch is
/// full, what arrived within the linger, and never past local sequence `end`. With `end` set
/// there is no linger: every message up to `end` is already stored, and the batch must be cut
/// exactly there (see the forwarder's retries).
pub async fn collect(
    messages: &mut pull::Ordered,
    shutdown: &CancellationToken,
    linger: Duration,
    end: Option<u64>,
    take: impl FnMut(&Message) -> Full,
) -> Result<Vec<Message>, async_nats::Error> {
    let sequence = |message: &Message| message.info().ok().map(|info| info.stream_sequence);
    cut(messages, shutdown, linger, end, sequence, take)
        .await
        .map_err(Into::into)
}

/// [`collect`] over any stream of messages whose local sequence `sequence` tells: the cutting
/// rules and their timer apart from NATS, so tests can run them on paused time.
pub async fn cut<M, E>(
    messages: &mut (impl Stream<Item = Result<M, E>> + Unpin),
    shutdown: &CancellationToken,
    linger: Duration,
    end: Option<u64>,
    sequence: impl Fn(&M) -> Option<u64>,
    mut take: impl FnMut(&M) -> Full,
) -> Result<Vec<M>, E> {
    let mut batch = Vec::new();
    let linger = tokio::time::sleep(linger);
    tokio::pin!(linger);
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            next = messages.next() => match next {
                Some(Ok(message)) => {
                    let at_end = end.is_some_and(|end| {
                        sequence(&message).is_some_and(|sequence| sequence >= end)
                    });
                    let full = take(&message);
                    batch.push(message);
                    if at_end || (end.is_none() && full == Full::Yes) {
                        break;
                    }
                }
                Some(Err(err)) => return Err(err),
                None => break,
            },
            () = &mut linger, if end.is_none() && !batch.is_empty() => break,
        }
    }
    Ok(batch)
}

/// Whether a batch has reached its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    Yes,
    No,
}

impl From<bool> for Full {
    fn from(full: bool) -> Self {
        if full { Self::Yes } else { Self::No }
    }
}

#[cfg(test)]
mod tests;

/// The local stream sequence of a delivered message.
pub fn sequence_of(message: &Message) -> Result<u64, async_nats::Error> {
    Ok(message.info()?.stream_sequence)
}
