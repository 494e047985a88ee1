use edgeops_service_host::{DatabaseArgs, HubArgs};
use std::path::PathBuf;

/// The registry's settings; every flag also reads an `EDGEOPS_*` environment variable. The
/// signing key can also come from `EDGEOPS_SIGNING_KEY` (the secret itself, for deployments
/// that inject secrets as variables); it is deliberately not a flag, so it never shows in `ps`.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryConfig {
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The registry's Ed25519 signing key, a `.key` file as `edgeops keys generate` writes it.
    #[arg(long, env = "EDGEOPS_SIGNING_KEY_FILE")]
    pub signing_key_file: Option<PathBuf>,
    /// Promote a newly registered version to staging at once when it passes the staging gate
    /// (beats persistence); a refusal is recorded. `false` leaves every new version in dev.
    #[arg(
        long,
        env = "EDGEOPS_REGISTRY_AUTO_STAGE",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub auto_stage: bool,
}

impl RegistryConfig {
    /// Settings for tests and the demo: everything local, auto-staging on, no key file (pass
    /// the key to [`crate::startup::run_with_key`]).
    pub fn local(nats_url: impl Into<String>, database_url: impl Into<String>) -> Self {
        Self {
            hub: HubArgs::new(nats_url),
            database: DatabaseArgs::new(database_url),
            signing_key_file: None,
            auto_stage: true,
        }
    }
}
