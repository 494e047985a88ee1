use edgeops_service_host::{DatabaseArgs, HubArgs};
use std::time::Duration;

use edgeops_contracts::training::RunRequest;

/// training's settings; every flag also reads an `EDGEOPS_*` environment variable.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainingConfig {
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// A run to request on a schedule and on data volume, as RunRequest JSON, e.g.
    /// '{"model":"pm25","scope":{"kind":"site","site":"beijing"},"spec":"outdoor_pm25","from":null,"to":null,"horizon_bins":6}'.
    #[arg(long, env = "EDGEOPS_TRAINING_SCHEDULED_RUN", value_parser = parse_request)]
    pub scheduled_run: Option<RunRequest>,
    /// Request the scheduled run this often (seconds; 0 = never).
    #[arg(long, env = "EDGEOPS_TRAINING_EVERY_SECS", default_value_t = 0)]
    pub every_secs: u64,
    /// Request the scheduled run when this many new feature rows arrived in its scope since
    /// the last request (0 = never).
    #[arg(long, env = "EDGEOPS_TRAINING_RETRAIN_AFTER_ROWS", default_value_t = 0)]
    pub retrain_after_rows: u64,
    /// How often the data-volume trigger counts rows (seconds).
    #[arg(long, env = "EDGEOPS_TRAINING_VOLUME_CHECK_SECS", default_value_t = 60)]
    pub volume_check_secs: u64,
}

fn parse_request(text: &str) -> Result<RunRequest, String> {
    serde_json::from_str(text).map_err(|e| format!("not a RunRequest: {e}"))
}

impl TrainingConfig {
    pub fn local(nats_url: impl Into<String>, database_url: impl Into<String>) -> Self {
        Self {
            hub: HubArgs::new(nats_url),
            database: DatabaseArgs::new(database_url),
            scheduled_run: None,
            every_secs: 0,
            retrain_after_rows: 0,
            volume_check_secs: 60,
        }
    }

    pub fn schedule_every(&self) -> Option<Duration> {
        (self.every_secs > 0).then(|| Duration::from_secs(self.every_secs))
    }
}
