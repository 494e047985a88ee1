//! Declarative, idempotent provisioning: describe the streams, consumers, KV buckets and object
//! stores a component needs; `provision` creates what is missing, updates what changed and
//! leaves the rest alone. Every service runs it on start, so it must be cheap and safe twice.

use std::time::Duration;

use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_nats::jetstream::context::{
    ConsumerInfoError, ConsumerInfoErrorKind, GetStreamError, GetStreamErrorKind,
};
use async_nats::jetstream::{Context, kv, object_store, stream};

/// A durable pull consumer on a stream.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    pub stream: String,
    pub durable: String,
    pub filter_subject: String,
    pub ack_wait: Duration,
    /// Server-side cap on deliveries. The consumer runner dead-letters before this is reached.
    pub max_deliver: i64,
    pub max_ack_pending: i64,
    pub description: String,
}

impl ConsumerSpec {
    fn config(&self) -> pull::Config {
        pull::Config {
            durable_name: Some(self.durable.clone()),
            description: Some(self.description.clone()),
            filter_subject: self.filter_subject.clone(),
            ack_policy: AckPolicy::Explicit,
            deliver_policy: DeliverPolicy::All,
            ack_wait: self.ack_wait,
            max_deliver: self.max_deliver,
            max_ack_pending: self.max_ack_pending,
            ..Default::default()
        }
    }
}

/// Everything one component needs to exist in one JetStream domain.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    pub streams: Vec<stream::Config>,
    pub consumers: Vec<ConsumerSpec>,
    pub key_values: Vec<kv::Config>,
    pub object_stores: Vec<object_store::Config>,
}

/// What `provision` did, resource by resource (`stream:READINGS`, `consumer:READINGS/ingest`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvisionReport {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
}

impl ProvisionReport {
    pub fn changed_nothing(&self) -> bool {
        self.created.is_empty() && self.updated.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("{resource}: {source}")]
    JetStream {
        resource: String,
        #[source]
        source: async_nats::Error,
    },
    #[error(
        "{resource}: {field} cannot change on an existing stream (is {current}, wanted {desired}); migrate by hand"
    )]
    Immutable {
        resource: String,
        field: &'static str,
        current: String,
        desired: String,
    },
}

fn js_error(resource: &str) -> impl FnOnce(async_nats::Error) -> ProvisionError + '_ {
    move |source| ProvisionError::JetStream {
        resource: resource.to_owned(),
        source,
    }
}

enum Change {
    Created,
    Updated,
    Unchanged,
}

/// Applies `topology` and reports what changed.
pub async fn provision(
    js: &Context,
    topology: &Topology,
) -> Result<ProvisionReport, ProvisionError> {
    let mut report = ProvisionReport::default();
    let mut record = |resource: String, change: Change| match change {
        Change::Created => report.created.push(resource),
        Change::Updated => report.updated.push(resource),
        Change::Unchanged => report.unchanged.push(resource),
    };
    for config in &topology.streams {
        let resource = format!("stream:{}", config.name);
        let change = ensure_stream(js, config, &resource).await?;
        record(resource, change);
    }
    for spec in &topology.consumers {
        let resource = format!("consumer:{}/{}", spec.stream, spec.durable);
        let change = ensure_consumer(js, spec, &resource).await?;
        record(resource, change);
    }
    for config in &topology.key_values {
        let resource = format!("kv:{}", config.bucket);
        let change = ensure_key_value(js, config, &resource).await?;
        record(resource, change);
    }
    for config in &topology.object_stores {
        let resource = format!("object_store:{}", config.bucket);
        let change = ensure_object_store(js, config, &resource).await?;
        record(resource, change);
    }
    for resource in report.created.iter().chain(&report.updated) {
        tracing::info!(resource, "provisioned");
    }
    Ok(report)
}

fn consumer_not_found(err: &ConsumerInfoError) -> bool {
    match err.kind() {
        ConsumerInfoErrorKind::NotFound => true,
        ConsumerInfoErrorKind::JetStream(e) => e.error_code() == ErrorCode::CONSUMER_NOT_FOUND,
        _ => false,
    }
}

fn is_not_found(err: &GetStreamError) -> bool {
    matches!(err.kind(), GetStreamErrorKind::JetStream(e) if e.error_code() == ErrorCode::STREAM_NOT_FOUND)
}

/// Reads a stream's current config, or `None` when it does not exist.
async fn current_stream(
    js: &Context,
    name: &str,
    resource: &str,
) -> Result<Option<stream::Config>, ProvisionError> {
    match js.get_stream(name).await {
        Ok(mut stream) => Ok(Some(
            stream
                .info()
                .await
                .map_err(|e| js_error(resource)(e.into()))?
                .config
                .clone(),
        )),
        Err(err) if is_not_found(&err) => Ok(None),
        Err(err) => Err(js_error(resource)(err.into())),
    }
}

/// The fields of a stream config that this project sets, normalised the way the server
/// stores them (a limit of 0 means "none", like -1; an unset duplicate window means the
/// server's default), so an unchanged spec compares equal to what the server reports.
fn managed(
    c: &stream::Config,
    server_duplicate_window: Duration,
) -> impl PartialEq + std::fmt::Debug {
    let limit = |v: i64| if v <= 0 { -1 } else { v };
    let duplicate_window = if c.duplicate_window.is_zero() {
        server_duplicate_window
    } else {
        c.duplicate_window
    };
    (
        c.subjects.clone(),
        c.max_age,
        limit(c.max_bytes),
        limit(c.max_messages),
        limit(c.max_messages_per_subject),
        limit(i64::from(c.max_message_size)),
        duplicate_window,
        c.num_replicas.max(1),
        c.description.clone(),
        c.discard,
    )
}

async fn ensure_stream(
    js: &Context,
    desired: &stream::Config,
    resource: &str,
) -> Result<Change, ProvisionError> {
    let Some(current) = current_stream(js, &desired.name, resource).await? else {
        js.create_stream(desired.clone())
            .await
            .map_err(|e| js_error(resource)(e.into()))?;
        return Ok(Change::Created);
    };
    if current.storage != desired.storage {
        return Err(ProvisionError::Immutable {
            resource: resource.to_owned(),
            field: "storage",
            current: format!("{:?}", current.storage),
            desired: format!("{:?}", desired.storage),
        });
    }
    if current.retention != desired.retention {
        return Err(ProvisionError::Immutable {
            resource: resource.to_owned(),
            field: "retention",
            current: format!("{:?}", current.retention),
            desired: format!("{:?}", desired.retention),
        });
    }
    if managed(&current, current.duplicate_window) == managed(desired, current.duplicate_window) {
        return Ok(Change::Unchanged);
    }
    js.update_stream(desired.clone())
        .await
        .map_err(|e| js_error(resource)(e.into()))?;
    Ok(Change::Updated)
}

async fn ensure_consumer(
    js: &Context,
    spec: &ConsumerSpec,
    resource: &str,
) -> Result<Change, ProvisionError> {
    let stream = js
        .get_stream(&spec.stream)
        .await
        .map_err(|e| js_error(resource)(e.into()))?;
    let desired = spec.config();
    let current = match stream.consumer_info(&spec.durable).await {
        Ok(info) => info.config,
        Err(err) if consumer_not_found(&err) => {
            stream
                .create_consumer(desired)
                .await
                .map_err(|e| js_error(resource)(e.into()))?;
            return Ok(Change::Created);
        }
        Err(err) => return Err(js_error(resource)(err.into())),
    };
    let same = current.filter_subject == desired.filter_subject
        && current.ack_wait == desired.ack_wait
        && current.max_deliver == desired.max_deliver
        && current.max_ack_pending == desired.max_ack_pending
        && current.description == desired.description;
    if same {
        return Ok(Change::Unchanged);
    }
    stream
        .update_consumer(desired)
        .await
        .map_err(|e| js_error(resource)(e.into()))?;
    Ok(Change::Updated)
}

async fn ensure_key_value(
    js: &Context,
    desired: &kv::Config,
    resource: &str,
) -> Result<Change, ProvisionError> {
    let Some(current) = current_stream(js, &format!("KV_{}", desired.bucket), resource).await?
    else {
        js.create_key_value(desired.clone())
            .await
            .map_err(|e| js_error(resource)(e.into()))?;
        return Ok(Change::Created);
    };
    let same = current.max_messages_per_subject == desired.history.max(1)
        && current.max_age == desired.max_age
        && current.max_bytes
            == if desired.max_bytes == 0 {
                -1
            } else {
                desired.max_bytes
            }
        && current.num_replicas.max(1) == desired.num_replicas.max(1)
        && current.description.as_deref().unwrap_or_default() == desired.description;
    if same {
        return Ok(Change::Unchanged);
    }
    js.create_or_update_key_value(desired.clone())
        .await
        .map_err(|e| js_error(resource)(e.into()))?;
    Ok(Change::Updated)
}

/// Object stores are created when missing; their limits are not reconciled yet.
async fn ensure_object_store(
    js: &Context,
    desired: &object_store::Config,
    resource: &str,
) -> Result<Change, ProvisionError> {
    if current_stream(js, &format!("OBJ_{}", desired.bucket), resource)
        .await?
        .is_some()
    {
        return Ok(Change::Unchanged);
    }
    js.create_object_store(desired.clone())
        .await
        .map_err(|e| js_error(resource)(e.into()))?;
    Ok(Change::Created)
}
