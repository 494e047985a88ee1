use edgeops_features::FeatureSpec;
use edgeops_service_host::{DatabaseArgs, HubArgs};

/// preprocessing's settings; every flag also reads an `EDGEOPS_*` environment variable.
#[derive(Debug, Clone, clap::Args)]
pub struct PreprocessingConfig {
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Feature specification: `indoor_air` (rooms, 5-minute bins), `outdoor_pm25` (hourly) or
    /// `parking_occupancy` (half-hourly).
    #[arg(long, env = "EDGEOPS_FEATURE_SPEC", default_value = "indoor_air", value_parser = FeatureSpec::NAMES)]
    pub spec: String,
    /// Readings handled per batch.
    #[arg(long, env = "EDGEOPS_PREPROCESSING_BATCH_SIZE", default_value_t = 2000)]
    pub batch_size: usize,
    /// Batches handled concurrently (devices are serialised by a lock in Postgres).
    #[arg(long, env = "EDGEOPS_PREPROCESSING_CONCURRENCY", default_value_t = 2)]
    pub concurrency: usize,
}

impl PreprocessingConfig {
    pub fn local(nats_url: impl Into<String>, database_url: impl Into<String>) -> Self {
        Self {
            hub: HubArgs::new(nats_url),
            database: DatabaseArgs::new(database_url),
            spec: "indoor_air".into(),
            batch_size: 2000,
            concurrency: 2,
        }
    }

    pub fn feature_spec(&self) -> FeatureSpec {
        FeatureSpec::by_name(&self.spec).unwrap_or_else(FeatureSpec::indoor_air)
    }
}
