//! Sending to the hub: a batch's messages pipelined, each failure classified (see
//! [`super::refusal`]), and what must be set aside kept at the site and reported to the hub.

use std::sync::atomic::Ordering;

use async_nats::HeaderMap;
use async_nats::jetstream::Message;
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::PublishMessage;

use super::forwarder::{BatchError, Forwarder};
use super::refusal::{self, Failure};
use crate::reduction::{HubMessage, Outgoing, pack, set_aside};

impl Forwarder {
    /// Keeps dead letters in the site's own stream (`DEAD_LETTERS_LOCAL`), stored before
    /// returning. Their ids name local sequences, so a retried batch stores each once.
    pub(super) async fn keep_at_site<'a>(
        &self,
        dead_letters: impl Iterator<Item = &'a HubMessage>,
    ) -> Result<(), BatchError> {
        let mut acks = Vec::new();
        for message in dead_letters {
            let publish = PublishMessage::build()
                .payload(message.payload.clone().into())
                .message_id(message.message_id.as_str());
            let subject = set_aside::local_subject(&self.site, &message.subject);
            let ack = self
                .local
                .send_publish(subject, publish)
                .await
                .map_err(|e| BatchError::Local(e.into()))?;
            acks.push(ack);
            self.stats.set_aside.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(site = %self.site, subject = %message.subject, message_id = %message.message_id, "set aside as a dead letter at the site and the hub");
        }
        for ack in acks {
            ack.await.map_err(|e| BatchError::Local(e.into()))?;
        }
        Ok(())
    }

    /// Sets aside what the hub refused for good: a dead letter at the site, and one at the hub.
    /// A dead letter the hub refuses too stays at the site only (logged): it must not stop the
    /// site either.
    pub(super) async fn set_aside_refused(&self, refused: Vec<Outgoing>) -> Result<(), BatchError> {
        let dead_letters = pack(refused, self.pack_limits);
        self.keep_at_site(dead_letters.iter()).await?;
        let (_, refused_again) = self.publish(&dead_letters, &[]).await?;
        for dead_letter in refused_again {
            tracing::error!(site = %self.site, message_id = %dead_letter.message_id, "the hub refused a dead letter too; it is kept at the site only");
        }
        Ok(())
    }

    /// Publishes every outgoing message, pipelined, then waits for every acknowledgement.
    /// Returns the trace-context bytes it added (the rest of the framing is `wire_bytes`) and
    /// the dead letters of the messages the hub refused for good. Any transient failure fails
    /// the batch (it is sent again from the cursor).
    pub(super) async fn publish(
        &self,
        outgoing: &[HubMessage],
        batch: &[Message],
    ) -> Result<(u64, Vec<Outgoing>), BatchError> {
        // One trace context per batch is enough to follow it from here to Postgres: a sensor's
        // own, or this batch's span, on the first message only (headers cost uplink bytes).
        let traceparent = batch.iter().find_map(|m| {
            m.headers
                .as_ref()
                .and_then(|h| h.get("traceparent"))
                .cloned()
        });
        let mut trace_bytes = 0u64;
        let mut refused = Vec::new();
        let mut acks: Vec<(&HubMessage, PublishAckFuture)> = Vec::with_capacity(outgoing.len());
        for (index, message) in outgoing.iter().enumerate() {
            let mut publish = PublishMessage::build()
                .payload(message.payload.clone().into())
                .message_id(message.message_id.as_str());
            if index == 0 {
                let context = match &traceparent {
                    Some(value) => Some(value.to_string()),
                    None => {
                        let mut header_map = HeaderMap::new();
                        edgeops_telemetry::propagation::inject_current_span(&mut header_map);
                        header_map.get("traceparent").map(|v| v.to_string())
                    }
                };
                if let Some(value) = context {
                    trace_bytes = ("traceparent: \r\n".len() + value.len()) as u64;
                    publish = publish.header("traceparent", value.as_str());
                }
            }
            match self
                .hub
                .send_publish(message.subject.clone(), publish)
                .await
            {
                Ok(ack) => acks.push((message, ack)),
                Err(err) => match refusal::classify(&err) {
                    Failure::Permanent(reason) => {
                        refused.push(self.refused(message, reason));
                    }
                    Failure::Transient(_) => return Err(BatchError::Hub(err.into())),
                },
            }
        }
        let (messages, acks): (Vec<&HubMessage>, Vec<PublishAckFuture>) = acks.into_iter().unzip();
        let results =
            futures::future::join_all(acks.into_iter().map(std::future::IntoFuture::into_future))
                .await;
        let mut transient = None;
        for (message, result) in messages.into_iter().zip(results) {
            let Err(err) = result else { continue };
            match refusal::classify(&err) {
                Failure::Permanent(reason) => refused.push(self.refused(message, reason)),
                Failure::Transient(_) => transient = transient.or(Some(err)),
            }
        }
        match transient {
            Some(err) => Err(BatchError::Hub(err.into())),
            None => Ok((trace_bytes, refused)),
        }
    }

    fn refused(&self, message: &HubMessage, reason: edgeops_contracts::Rejection) -> Outgoing {
        tracing::warn!(site = %self.site, subject = %message.subject, message_id = %message.message_id, bytes = message.payload.len(), reason = %reason.code, detail = %reason.detail, "the hub refused a message for good; setting it aside");
        refusal::refused_message(&self.site, message, reason)
    }
}
