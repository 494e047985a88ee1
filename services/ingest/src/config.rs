use edgeops_service_host::{DatabaseArgs, HubArgs};
use std::time::Duration;

/// ingest's settings; every flag also reads an `EDGEOPS_*` environment variable.
#[derive(Debug, Clone, clap::Args)]
pub struct IngestConfig {
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Readings written per Postgres statement.
    #[arg(long, env = "EDGEOPS_INGEST_BATCH_SIZE", default_value_t = 1000)]
    pub batch_size: usize,
    /// Longest wait to fill a batch, in milliseconds.
    #[arg(long, env = "EDGEOPS_INGEST_BATCH_LINGER_MS", default_value_t = 50)]
    pub batch_linger_ms: u64,
    /// Batches pulled and written concurrently.
    #[arg(long, env = "EDGEOPS_INGEST_CONCURRENCY", default_value_t = 2)]
    pub concurrency: usize,
    /// Deliveries after which a reading that keeps failing is dead-lettered.
    #[arg(long, env = "EDGEOPS_INGEST_MAX_DELIVER", default_value_t = 5)]
    pub max_deliver: i64,
    /// Delay before a failed batch is delivered again, in milliseconds.
    #[arg(long, env = "EDGEOPS_INGEST_RETRY_DELAY_MS", default_value_t = 2000)]
    pub retry_delay_ms: u64,
    /// How long a delivered reading may stay unacknowledged before it is delivered again
    /// (to another replica, or to this one after a crash), in seconds.
    #[arg(long, env = "EDGEOPS_INGEST_ACK_WAIT_SECS", default_value_t = 10)]
    pub ack_wait_secs: u64,
    /// Skip creating/updating streams and consumers on start (when an operator manages them).
    #[arg(long, env = "EDGEOPS_SKIP_PROVISION")]
    pub skip_provision: bool,
    /// JetStream de-duplication window of the hub streams, in seconds.
    #[arg(long, env = "EDGEOPS_DUPLICATE_WINDOW_SECS", default_value_t = 120)]
    pub duplicate_window_secs: u64,
}

impl IngestConfig {
    pub fn batch_linger(&self) -> Duration {
        Duration::from_millis(self.batch_linger_ms)
    }

    pub fn retry_delay(&self) -> Duration {
        Duration::from_millis(self.retry_delay_ms)
    }

    /// Settings for tests and the demo: everything local, provisioning on.
    pub fn local(nats_url: impl Into<String>, database_url: impl Into<String>) -> Self {
        Self {
            hub: HubArgs::new(nats_url),
            database: DatabaseArgs::new(database_url),
            batch_size: 1000,
            batch_linger_ms: 50,
            concurrency: 2,
            max_deliver: 5,
            retry_delay_ms: 2000,
            ack_wait_secs: 10,
            skip_provision: false,
            duplicate_window_secs: 120,
        }
    }
}
