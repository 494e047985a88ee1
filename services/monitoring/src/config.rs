use edgeops_service_host::{DatabaseArgs, HubArgs};

use crate::domain::judge::Levels;

/// Monitoring's settings; every flag also reads an `EDGEOPS_*` environment variable.
#[derive(Debug, Clone, clap::Args)]
pub struct MonitoringConfig {
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Hours of target time the live error is judged over.
    #[arg(
        long,
        env = "EDGEOPS_MONITORING_PERFORMANCE_HOURS",
        default_value_t = 6
    )]
    pub performance_hours: u32,
    /// Judged forecasts needed before the live error is judged at all.
    #[arg(long, env = "EDGEOPS_MONITORING_MIN_JUDGED", default_value_t = 36)]
    pub min_judged: u64,
    /// Skill vs persistence below which `performance_degraded` opens.
    #[arg(long, env = "EDGEOPS_MONITORING_DEGRADED_SKILL", default_value_t = -0.25, allow_hyphen_values = true)]
    pub degraded_skill: f64,
    /// Skill vs persistence above which it closes again.
    #[arg(long, env = "EDGEOPS_MONITORING_RECOVERED_SKILL", default_value_t = -0.05, allow_hyphen_values = true)]
    pub recovered_skill: f64,
    /// Seconds without a reading (by the site's own clock) after which a device is silent.
    #[arg(long, env = "EDGEOPS_MONITORING_HEARTBEAT_SECS", default_value_t = 900)]
    pub heartbeat_secs: i64,
    /// Seconds without a summary (by the hub's clock) after which a site is offline.
    #[arg(long, env = "EDGEOPS_MONITORING_OFFLINE_AFTER_SECS", default_value_t = 3 * 3600)]
    pub offline_after_secs: i64,
    /// How often the site links are checked, in seconds.
    #[arg(
        long,
        env = "EDGEOPS_MONITORING_CHECK_EVERY_SECS",
        default_value_t = 30
    )]
    pub check_every_secs: u64,
    /// Hours of live inputs a drift verdict is made on (whole days compare like with like
    /// for features with a daily cycle).
    #[arg(long, env = "EDGEOPS_MONITORING_DRIFT_HOURS", default_value_t = 24)]
    pub drift_hours: u32,
    /// PSI above which a feature's shape moved.
    #[arg(long, env = "EDGEOPS_MONITORING_DRIFT_PSI", default_value_t = 0.25)]
    pub drift_psi: f64,
    /// Wasserstein-1 distance, in training standard deviations, above which it moved.
    #[arg(
        long,
        env = "EDGEOPS_MONITORING_DRIFT_WASSERSTEIN",
        default_value_t = 0.5
    )]
    pub drift_wasserstein: f64,
    /// Fewest live values a feature needs for a drift verdict.
    #[arg(
        long,
        env = "EDGEOPS_MONITORING_DRIFT_MIN_VALUES",
        default_value_t = 200
    )]
    pub drift_min_values: u64,
    /// Dead letters of one reason in an hour that make a jump: at least this many...
    #[arg(
        long,
        env = "EDGEOPS_MONITORING_DEAD_LETTER_JUMP_MIN",
        default_value_t = 20
    )]
    pub dead_letter_jump_min: u64,
    /// ...and this many times the hourly mean of the day before (plus one).
    #[arg(
        long,
        env = "EDGEOPS_MONITORING_DEAD_LETTER_JUMP_FACTOR",
        default_value_t = 5.0
    )]
    pub dead_letter_jump_factor: f64,
    /// Seconds after a recovery during which the same incident does not open again.
    #[arg(long, env = "EDGEOPS_MONITORING_COOL_DOWN_SECS", default_value_t = 6 * 3600)]
    pub cool_down_secs: i64,
}

impl MonitoringConfig {
    /// Settings for tests and the demo: everything local, the default levels.
    pub fn local(nats_url: impl Into<String>, database_url: impl Into<String>) -> Self {
        let levels = Levels::default();
        Self {
            hub: HubArgs::new(nats_url),
            database: DatabaseArgs::new(database_url),
            performance_hours: levels.performance_windows,
            min_judged: levels.min_judged,
            degraded_skill: levels.degraded_skill,
            recovered_skill: levels.recovered_skill,
            heartbeat_secs: levels.heartbeat.num_seconds(),
            offline_after_secs: levels.offline_after.num_seconds(),
            check_every_secs: 30,
            cool_down_secs: levels.cool_down.num_seconds(),
            drift_hours: levels.drift_windows,
            drift_psi: levels.drift.psi,
            drift_wasserstein: levels.drift.wasserstein,
            drift_min_values: levels.drift.min_values,
            dead_letter_jump_min: levels.dead_letter_jump_min,
            dead_letter_jump_factor: levels.dead_letter_jump_factor,
        }
    }

    pub fn levels(&self) -> Levels {
        Levels {
            performance_windows: self.performance_hours,
            min_judged: self.min_judged,
            degraded_skill: self.degraded_skill,
            recovered_skill: self.recovered_skill,
            heartbeat: chrono::Duration::seconds(self.heartbeat_secs),
            offline_after: chrono::Duration::seconds(self.offline_after_secs),
            cool_down: chrono::Duration::seconds(self.cool_down_secs),
            drift_windows: self.drift_hours,
            drift: edgeops_evaluation::drift::DriftThresholds {
                psi: self.drift_psi,
                wasserstein: self.drift_wasserstein,
                min_values: self.drift_min_values,
            },
            dead_letter_jump_min: self.dead_letter_jump_min,
            dead_letter_jump_factor: self.dead_letter_jump_factor,
        }
    }
}
