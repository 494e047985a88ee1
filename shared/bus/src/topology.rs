//! The JetStream resources of the hub and of one edge site, with the limits we chose and why.

use std::time::Duration;

use async_nats::jetstream::{kv, object_store, stream};
use edgeops_contracts::{SiteId, streams, subjects, training};

use crate::provision::{ConsumerSpec, Topology};

const DAY: Duration = Duration::from_secs(24 * 3600);

/// Limits of the hub's streams. Defaults suit one hub serving a few hundred sites.
#[derive(Debug, Clone)]
pub struct HubSettings {
    /// Readings stay replayable on the hub this long after ingest wrote them to Postgres.
    pub readings_max_age: Duration,
    pub readings_max_bytes: i64,
    /// JetStream de-duplication by `Nats-Msg-Id`. Only a first line of defence: an outage can
    /// outlast any window, so every projection is idempotent on its own.
    pub duplicate_window: Duration,
    pub dead_letters_max_age: Duration,
    /// Deliveries after which ingest dead-letters a message it keeps failing on.
    pub ingest_max_deliver: i64,
    pub ingest_ack_wait: Duration,
}

impl Default for HubSettings {
    fn default() -> Self {
        Self {
            readings_max_age: 7 * DAY,
            readings_max_bytes: 4 * 1024 * 1024 * 1024,
            duplicate_window: Duration::from_secs(120),
            dead_letters_max_age: 30 * DAY,
            ingest_max_deliver: 5,
            ingest_ack_wait: Duration::from_secs(10),
        }
    }
}

/// The durable consumer ingest pulls from (shared by all ingest replicas).
pub const INGEST_CONSUMER: &str = "ingest";
/// The durable consumer preprocessing pulls readings from.
pub const PREPROCESSING_CONSUMER: &str = "preprocessing";
/// The durable consumer that executes requested training runs.
pub const TRAINING_RUNS_CONSUMER: &str = "training-runs";
/// The durable consumer through which training hears drift signals.
pub const TRAINING_DRIFT_CONSUMER: &str = "training-drift";
/// The durable consumer ingest's aggregates handler pulls from.
pub const INGEST_AGGREGATES_CONSUMER: &str = "ingest-aggregates";
/// The durable consumer through which the registry hears of completed training runs.
pub const REGISTRY_COMPLETIONS_CONSUMER: &str = "registry-completions";
/// The durable consumer that writes the registry's Postgres projection.
pub const REGISTRY_PROJECTION_CONSUMER: &str = "registry-projection";
/// The durable consumer through which deployment hears devices' reported state.
pub const DEPLOYMENT_REPORTS_CONSUMER: &str = "deployment-reports";
/// The durable consumer that stores forwarded forecasts for deployment's health gates.
pub const DEPLOYMENT_FORECASTS_CONSUMER: &str = "deployment-forecasts";
/// The durable consumer that writes deployment's rollout projection in Postgres.
pub const DEPLOYMENT_PROJECTION_CONSUMER: &str = "deployment-projection";
/// The durable consumer through which monitoring reads the gateways' window summaries.
pub const MONITORING_SUMMARIES_CONSUMER: &str = "monitoring-summaries";
/// The durable consumer that writes monitoring's incidents projection in Postgres.
pub const MONITORING_PROJECTION_CONSUMER: &str = "monitoring-projection";
/// The durable consumer through which monitoring counts the hub's dead letters per reason.
pub const MONITORING_DEAD_LETTERS_CONSUMER: &str = "monitoring-dead-letters";

pub fn hub_topology(settings: &HubSettings) -> Topology {
    Topology {
        streams: vec![
            stream::Config {
                name: streams::HUB_READINGS.into(),
                description: Some(
                    "Readings forwarded by edge gateways; ingest writes them to Postgres".into(),
                ),
                subjects: vec![subjects::all_hub_readings()],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                max_age: settings.readings_max_age,
                max_bytes: settings.readings_max_bytes,
                duplicate_window: settings.duplicate_window,
                ..Default::default()
            },
            stream::Config {
                name: streams::HUB_AGGREGATES.into(),
                description: Some("Window aggregates forwarded by edge gateways".into()),
                subjects: vec![subjects::all_hub_aggregates()],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                max_age: settings.readings_max_age,
                duplicate_window: settings.duplicate_window,
                ..Default::default()
            },
            stream::Config {
                name: streams::DEAD_LETTERS.into(),
                description: Some(
                    "Messages a consumer refused, with the original bytes and a reason".into(),
                ),
                subjects: vec![subjects::all_dead_letters()],
                storage: stream::StorageType::File,
                max_age: settings.dead_letters_max_age,
                duplicate_window: settings.duplicate_window,
                ..Default::default()
            },
            stream::Config {
                name: streams::EVENTS.into(),
                description: Some(
                    "Domain events, one subject per aggregate instance; the source of truth".into(),
                ),
                subjects: vec![subjects::all_events()],
                storage: stream::StorageType::File,
                duplicate_window: settings.duplicate_window,
                ..Default::default()
            },
            hub_forecasts(),
            hub_summaries(),
        ],
        consumers: vec![
            ConsumerSpec {
                stream: streams::HUB_READINGS.into(),
                durable: INGEST_CONSUMER.into(),
                filter_subject: subjects::all_hub_readings(),
                ack_wait: settings.ingest_ack_wait,
                // One more than the runner's limit: the runner dead-letters on the last delivery
                // it sees, so the server never silently stops delivering a message.
                max_deliver: settings.ingest_max_deliver + 1,
                max_ack_pending: 20_000,
                description: "ingest: validate readings and write them to Postgres".into(),
            },
            ConsumerSpec {
                stream: streams::HUB_READINGS.into(),
                durable: PREPROCESSING_CONSUMER.into(),
                filter_subject: subjects::all_hub_readings(),
                ack_wait: settings.ingest_ack_wait,
                max_deliver: settings.ingest_max_deliver + 1,
                max_ack_pending: 20_000,
                description: "preprocessing: samples and feature rows".into(),
            },
            ConsumerSpec {
                stream: streams::HUB_AGGREGATES.into(),
                durable: INGEST_AGGREGATES_CONSUMER.into(),
                filter_subject: subjects::all_hub_aggregates(),
                ack_wait: settings.ingest_ack_wait,
                max_deliver: settings.ingest_max_deliver + 1,
                max_ack_pending: 20_000,
                description: "ingest: write window aggregates to Postgres".into(),
            },
            ConsumerSpec {
                stream: streams::EVENTS.into(),
                durable: TRAINING_RUNS_CONSUMER.into(),
                filter_subject: subjects::aggregate_events(training::RUN_AGGREGATE, "*"),
                // A run keeps its delivery alive with progress acks while it trains.
                ack_wait: Duration::from_secs(60),
                max_deliver: 3,
                max_ack_pending: 1,
                description: "training: execute requested runs, one at a time".into(),
            },
            ConsumerSpec {
                stream: streams::EVENTS.into(),
                durable: TRAINING_DRIFT_CONSUMER.into(),
                filter_subject: subjects::aggregate_events(training::MONITOR_AGGREGATE, "*"),
                ack_wait: Duration::from_secs(30),
                max_deliver: 5,
                max_ack_pending: 100,
                description: "training: request a run when monitoring reports drift".into(),
            },
            ConsumerSpec {
                stream: streams::EVENTS.into(),
                durable: REGISTRY_COMPLETIONS_CONSUMER.into(),
                filter_subject: subjects::aggregate_events(training::RUN_AGGREGATE, "*"),
                ack_wait: Duration::from_secs(30),
                max_deliver: 6,
                max_ack_pending: 100,
                description: "registry: register the models of completed training runs".into(),
            },
            ConsumerSpec {
                stream: streams::EVENTS.into(),
                durable: REGISTRY_PROJECTION_CONSUMER.into(),
                filter_subject: subjects::all_aggregate_events(
                    edgeops_contracts::registry::MODEL_VERSION_AGGREGATE,
                ),
                // A projection rebuild holds the tables for a while; redelivery is harmless.
                ack_wait: Duration::from_secs(60),
                max_deliver: 6,
                // One event in flight: the projection is written in stream order, a retried
                // event included (a delayed nak keeps it pending, so nothing overtakes it).
                max_ack_pending: 1,
                description: "registry: write the model-version projection in Postgres".into(),
            },
            ConsumerSpec {
                stream: streams::EVENTS.into(),
                durable: DEPLOYMENT_REPORTS_CONSUMER.into(),
                filter_subject: subjects::all_aggregate_events(
                    edgeops_contracts::deployment::DEVICE_AGGREGATE,
                ),
                ack_wait: Duration::from_secs(30),
                max_deliver: 6,
                max_ack_pending: 5_000,
                description: "deployment: devices' applied/refused reports into their rollouts"
                    .into(),
            },
            ConsumerSpec {
                stream: streams::HUB_FORECASTS.into(),
                durable: DEPLOYMENT_FORECASTS_CONSUMER.into(),
                filter_subject: subjects::all_hub_forecasts(),
                ack_wait: Duration::from_secs(30),
                max_deliver: 6,
                max_ack_pending: 20_000,
                description: "deployment: forecasts for the rollouts' live-error gates".into(),
            },
            ConsumerSpec {
                stream: streams::EVENTS.into(),
                durable: DEPLOYMENT_PROJECTION_CONSUMER.into(),
                filter_subject: subjects::all_aggregate_events(
                    edgeops_contracts::deployment::ROLLOUT_AGGREGATE,
                ),
                ack_wait: Duration::from_secs(60),
                max_deliver: 6,
                // In stream order, one at a time, like the registry's projection.
                max_ack_pending: 1,
                description: "deployment: write the rollout projection in Postgres".into(),
            },
            ConsumerSpec {
                stream: streams::HUB_SUMMARIES.into(),
                durable: MONITORING_SUMMARIES_CONSUMER.into(),
                filter_subject: subjects::all_hub_summaries(),
                ack_wait: Duration::from_secs(30),
                max_deliver: 6,
                max_ack_pending: 5_000,
                description:
                    "monitoring: gateways' window summaries into live error, drift and quality"
                        .into(),
            },
            ConsumerSpec {
                stream: streams::DEAD_LETTERS.into(),
                durable: MONITORING_DEAD_LETTERS_CONSUMER.into(),
                filter_subject: subjects::all_dead_letters(),
                ack_wait: Duration::from_secs(30),
                max_deliver: 6,
                max_ack_pending: 1_000,
                description: "monitoring: count dead letters per reason, for jumps".into(),
            },
            ConsumerSpec {
                stream: streams::EVENTS.into(),
                durable: MONITORING_PROJECTION_CONSUMER.into(),
                filter_subject: subjects::all_aggregate_events(
                    edgeops_contracts::monitoring::INCIDENT_AGGREGATE,
                ),
                ack_wait: Duration::from_secs(60),
                max_deliver: 6,
                max_ack_pending: 1,
                description: "monitoring: write the incidents projection in Postgres".into(),
            },
        ],
        key_values: vec![
            kv::Config {
                bucket: streams::SITES_BUCKET.into(),
                description: "Registered sites; ingest accepts readings only from these".into(),
                history: 5,
                storage: stream::StorageType::File,
                ..Default::default()
            },
            desired_models(),
        ],
        object_stores: vec![object_store::Config {
            bucket: streams::MODELS_BUCKET.into(),
            description: Some(
                "ONNX models, one object per version; digests in the registry".into(),
            ),
            storage: stream::StorageType::File,
            ..Default::default()
        }],
    }
}

/// Limits of one site's leaf JetStream. Edge boxes have small disks: bound by age and bytes.
#[derive(Debug, Clone)]
pub struct SiteSettings {
    pub raw_max_age: Duration,
    pub raw_max_bytes: i64,
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            raw_max_age: 7 * DAY,
            raw_max_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

pub fn site_topology(site: &SiteId, settings: &SiteSettings) -> Topology {
    Topology {
        streams: vec![
            stream::Config {
                name: streams::LOCAL_READINGS.into(),
                description: Some(format!("Raw readings of site {site}, kept locally")),
                // Every raw subject, not only this site's: a reading published here under
                // another site's name is refused by the gateway with a reason instead of
                // vanishing (the leaf link carries no raw subject in either direction).
                subjects: vec![subjects::all_raw_readings()],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                discard: stream::DiscardPolicy::Old,
                max_age: settings.raw_max_age,
                max_bytes: settings.raw_max_bytes,
                ..Default::default()
            },
            stream::Config {
                name: streams::LOCAL_REDUCED.into(),
                description: Some(format!(
                    "What the reduction policy of site {site} lets through, one message per batch: the forwarder sends it, inference forecasts from it"
                )),
                subjects: vec![subjects::local_reduced(site)],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                discard: stream::DiscardPolicy::Old,
                // Never more than the raw readings it comes from, kept as long.
                max_age: settings.raw_max_age,
                max_bytes: settings.raw_max_bytes,
                // A reduction batch retried after a failure is stored once.
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            },
            stream::Config {
                name: streams::LOCAL_SUMMARIES.into(),
                description: Some(format!(
                    "Window summaries of site {site}'s devices, kept until sent to the hub"
                )),
                subjects: vec![subjects::local_summaries_of_site(site)],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                discard: stream::DiscardPolicy::Old,
                max_age: settings.raw_max_age,
                max_bytes: LOCAL_DEAD_LETTERS_MAX_BYTES,
                // A summary stored again after a lost acknowledgement is kept once.
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            },
            stream::Config {
                name: streams::LOCAL_DEAD_LETTERS.into(),
                description: Some(format!(
                    "What the gateway of site {site} set aside instead of forwarding, with the reason"
                )),
                subjects: vec![subjects::local_dead_letters_of_site(site)],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                discard: stream::DiscardPolicy::Old,
                max_age: settings.raw_max_age,
                max_bytes: LOCAL_DEAD_LETTERS_MAX_BYTES,
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            },
        ],
        consumers: vec![],
        key_values: vec![kv::Config {
            bucket: streams::GATEWAY_STATE_BUCKET.into(),
            description: "Edge gateway state (reduction and forwarding cursors)".into(),
            history: 1,
            storage: stream::StorageType::File,
            ..Default::default()
        }],
        object_stores: vec![],
    }
}

/// Forecasts the gateways forward: monitoring joins them with actuals. Limits are fixed rather
/// than taken from [`HubSettings`]: forecasts are replaceable (a lost one is a gap in a chart),
/// so they get a week and a byte cap, whatever the readings' retention.
fn hub_forecasts() -> stream::Config {
    stream::Config {
        name: streams::HUB_FORECASTS.into(),
        description: Some("Forecasts forwarded by edge gateways, best effort".into()),
        subjects: vec![subjects::all_hub_forecasts()],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        discard: stream::DiscardPolicy::Old,
        max_age: 7 * DAY,
        max_bytes: 1024 * 1024 * 1024,
        ..Default::default()
    }
}

/// Window summaries the gateways send store-and-forward (a few hundred bytes per device and
/// hour). Kept 30 days, so monitoring can rebuild its projection by replay; a resent summary
/// within the duplicate window is stored once (monitoring also keys them by window).
fn hub_summaries() -> stream::Config {
    stream::Config {
        name: streams::HUB_SUMMARIES.into(),
        description: Some("Per-device window summaries from edge gateways".into()),
        subjects: vec![subjects::all_hub_summaries()],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        discard: stream::DiscardPolicy::Old,
        max_age: 30 * DAY,
        max_bytes: 2 * 1024 * 1024 * 1024,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    }
}

/// Each device's desired model (key `<site>.<device>`). History keeps the last ten desired
/// states per device, so an operator can see what a rollout replaced.
fn desired_models() -> kv::Config {
    kv::Config {
        bucket: streams::DESIRED_BUCKET.into(),
        description: "Desired model per device; deployment writes, gateways watch".into(),
        history: 10,
        storage: stream::StorageType::File,
        ..Default::default()
    }
}

/// Most bytes of dead letters a site keeps (oldest dropped first): a dead letter carries at
/// most 128 KiB of its message, so this holds hundreds of the largest and many thousands of
/// ordinary refusals.
pub const LOCAL_DEAD_LETTERS_MAX_BYTES: i64 = 256 * 1024 * 1024;

/// Most forecasts a site keeps locally (oldest dropped first).
pub const LOCAL_FORECASTS_MAX_BYTES: i64 = 256 * 1024 * 1024;
/// How long a site keeps its forecasts: two days, enough to compare with what happened.
pub const LOCAL_FORECASTS_MAX_AGE: Duration = Duration::from_secs(2 * 24 * 3600);

/// What a site's gateway needs for inference, provisioned only when inference is on: the
/// stream of the forecasts it publishes at the site.
pub fn site_inference_topology(site: &SiteId) -> Topology {
    Topology {
        streams: vec![stream::Config {
            name: streams::LOCAL_FORECASTS.into(),
            description: Some(format!("Forecasts of site {site}, kept locally")),
            subjects: vec![subjects::forecasts_of_site(site)],
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            discard: stream::DiscardPolicy::Old,
            max_age: LOCAL_FORECASTS_MAX_AGE,
            max_bytes: LOCAL_FORECASTS_MAX_BYTES,
            ..Default::default()
        }],
        consumers: vec![],
        key_values: vec![],
        object_stores: vec![],
    }
}
