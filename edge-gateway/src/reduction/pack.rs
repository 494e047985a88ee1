//! Packing planned messages into hub messages: consecutive readings (or aggregates) of one
//! device travel as one JSON array, so a batch costs one publish, one header and one
//! acknowledgement per device instead of one per reading. Pure, like the planner.
//!
//! A packed message takes the `Nats-Msg-Id` of its last planned message, so the id still names
//! the highest local sequence it carries: the forwarder's resend check (everything up to the
//! hub's last id on a subject arrived) keeps working per reading. Order per subject is kept; an
//! unchecked payload travels alone, between the packs before and after it.
//!
//! A pack of at least `compress_from_bytes` travels as a zstd frame of its JSON text when that
//! is smaller (see [`edgeops_contracts::compression`]); readings of one device in a row share
//! most of their text, so a pack of tens of readings shrinks several times.

use std::collections::HashMap;

use edgeops_contracts::compression;

use super::plan::{Body, Outgoing, id_header_bytes};

/// How much one hub message may carry. Ingest accepts up to 1,000 readings and 1 MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackLimits {
    pub max_messages: usize,
    pub max_payload_bytes: usize,
    /// Packs of at least this many bytes are compressed when that makes them smaller; `None`
    /// never compresses.
    pub compress_from_bytes: Option<usize>,
}

impl Default for PackLimits {
    fn default() -> Self {
        Self {
            max_messages: 250,
            max_payload_bytes: 64 * 1024,
            compress_from_bytes: Some(crate::config::DEFAULT_COMPRESS_FROM_BYTES),
        }
    }
}

/// One message for the hub: one or more planned messages of one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct HubMessage {
    pub subject: String,
    pub payload: Vec<u8>,
    pub message_id: String,
    /// What its planned messages carried (all of one kind).
    pub body: Body,
    /// Readings it carries (0 for aggregates; an unchecked payload counts as one).
    pub readings: u64,
}

impl HubMessage {
    /// Bytes on the uplink: payload plus the de-duplication header.
    pub fn wire_bytes(&self) -> usize {
        self.payload.len() + id_header_bytes(&self.message_id)
    }
}

/// Packs `planned` (in local stream order) into hub messages, per subject in the same order.
pub fn pack(planned: Vec<Outgoing>, limits: PackLimits) -> Vec<HubMessage> {
    let mut packs: Vec<Pack> = Vec::new();
    let mut open: HashMap<String, usize> = HashMap::new();
    for message in planned {
        if matches!(message.body, Body::Unchecked | Body::DeadLetter) {
            open.remove(&message.subject);
            packs.push(Pack::start(message));
            continue;
        }
        match open.get(&message.subject) {
            Some(&index) if packs[index].accepts(&message, limits) => packs[index].add(message),
            _ => {
                open.insert(message.subject.clone(), packs.len());
                packs.push(Pack::start(message));
            }
        }
    }
    packs
        .into_iter()
        .map(|pack| pack.finish(limits.compress_from_bytes))
        .collect()
}

struct Pack {
    subject: String,
    body: Body,
    message_id: String,
    payloads: Vec<Vec<u8>>,
    bytes: usize,
}

impl Pack {
    fn start(message: Outgoing) -> Self {
        Self {
            bytes: message.payload.len(),
            subject: message.subject,
            body: message.body,
            message_id: message.message_id,
            payloads: vec![message.payload],
        }
    }

    fn accepts(&self, message: &Outgoing, limits: PackLimits) -> bool {
        self.body == message.body
            && self.payloads.len() < limits.max_messages
            && self.bytes + message.payload.len() < limits.max_payload_bytes
    }

    fn add(&mut self, message: Outgoing) {
        self.bytes += message.payload.len() + 1;
        self.message_id = message.message_id;
        self.payloads.push(message.payload);
    }

    fn finish(mut self, compress_from_bytes: Option<usize>) -> HubMessage {
        let readings = match self.body {
            Body::Reading => self.payloads.len() as u64,
            Body::Aggregates | Body::DeadLetter => 0,
            Body::Unchecked => 1,
        };
        let payload = if self.payloads.len() == 1 {
            self.payloads.swap_remove(0)
        } else {
            // Readings are objects: wrap them. Aggregates are arrays already: join their items.
            let items = self.payloads.iter().map(|payload| match self.body {
                Body::Aggregates => array_items(payload),
                Body::Reading | Body::Unchecked | Body::DeadLetter => payload.as_slice(),
            });
            json_array(items, self.bytes + 2)
        };
        let payload = match compress_from_bytes {
            // A dead letter stays readable in `nats stream view`.
            Some(_) if self.body == Body::DeadLetter => payload,
            Some(from) if payload.len() >= from => compression::compress_if_smaller(payload),
            _ => payload,
        };
        HubMessage {
            subject: self.subject,
            payload,
            message_id: self.message_id,
            body: self.body,
            readings,
        }
    }
}

/// The items of a JSON array's text, without its brackets.
fn array_items(array: &[u8]) -> &[u8] {
    let trimmed = array.trim_ascii();
    match (trimmed.first(), trimmed.last()) {
        (Some(b'['), Some(b']')) => &trimmed[1..trimmed.len() - 1],
        _ => trimmed,
    }
}

fn json_array<'a>(items: impl Iterator<Item = &'a [u8]>, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    out.push(b'[');
    for (index, item) in items.filter(|item| !item.is_empty()).enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.push(b']');
    out
}

#[cfg(test)]
mod tests;
