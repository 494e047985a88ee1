//! The JetStream resources of the hub and of one edge site, with the limits we chose and why.

use std::time::Duration;

use async_nats::jetstream::{kv, stream};
use edgeops_contracts::{SiteId, streams, subjects};

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
/// The durable consumer ingest's aggregates handler pulls from.
pub const INGEST_AGGREGATES_CONSUMER: &str = "ingest-aggregates";

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
        ],
        key_values: vec![kv::Config {
            bucket: streams::SITES_BUCKET.into(),
            description: "Registered sites; ingest accepts readings only from these".into(),
            history: 5,
            storage: stream::StorageType::File,
            ..Default::default()
        }],
        object_stores: vec![],
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
        streams: vec![stream::Config {
            name: streams::LOCAL_READINGS.into(),
            description: Some(format!("Raw readings of site {site}, kept locally")),
            subjects: vec![subjects::raw_readings_of_site(site)],
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            discard: stream::DiscardPolicy::Old,
            max_age: settings.raw_max_age,
            max_bytes: settings.raw_max_bytes,
            ..Default::default()
        }],
        consumers: vec![],
        key_values: vec![kv::Config {
            bucket: streams::GATEWAY_STATE_BUCKET.into(),
            description: "Edge gateway state (forwarding cursor)".into(),
            history: 1,
            storage: stream::StorageType::File,
            ..Default::default()
        }],
        object_stores: vec![],
    }
}
