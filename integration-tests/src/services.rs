//! Running the services in-process for a test, and stopping them the way SIGTERM would.

use std::sync::Arc;

use edgeops_edge_gateway::GatewayConfig;
use edgeops_edge_gateway::forward::ForwarderStats;
use edgeops_ingest::IngestConfig;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::TestStack;

/// A service task and the token that stops it.
pub struct Running {
    pub stop: CancellationToken,
    pub task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Asks the service to stop and returns its result (panics if it failed).
    pub async fn shutdown(self) {
        self.stop.cancel();
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => panic!("service failed: {err:#}"),
            Err(err) => panic!("service task panicked: {err}"),
        }
    }
}

pub fn spawn_ingest(stack: &TestStack) -> Running {
    spawn_ingest_with(IngestConfig::local(
        stack.hub_url.clone(),
        stack.database_url.clone(),
    ))
}

pub fn spawn_ingest_with(config: IngestConfig) -> Running {
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let task =
        tokio::spawn(async move { edgeops_ingest::run(config, signal.cancelled_owned()).await });
    Running { stop, task }
}

pub fn spawn_gateway(stack: &TestStack, site: &str) -> (Running, Arc<ForwarderStats>) {
    spawn_gateway_with_policy(stack, site, "forward-all")
}

/// A gateway with a reduction policy (`default`, `forward-all` or a policy file's path).
pub fn spawn_gateway_with_policy(
    stack: &TestStack,
    site: &str,
    policy: &str,
) -> (Running, Arc<ForwarderStats>) {
    let leaf = stack.leaf(site);
    let mut config = GatewayConfig::local(leaf.site.clone(), leaf.url.clone());
    config.policy = policy.to_owned();
    spawn_gateway_with_config(config)
}

pub fn spawn_gateway_with_config(config: GatewayConfig) -> (Running, Arc<ForwarderStats>) {
    let stats = Arc::new(ForwarderStats::default());
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let task_stats = stats.clone();
    let task = tokio::spawn(async move {
        edgeops_edge_gateway::startup::run_with_stats(config, task_stats, signal.cancelled_owned())
            .await
    });
    (Running { stop, task }, stats)
}

pub fn spawn_preprocessing(stack: &TestStack) -> Running {
    spawn_preprocessing_with_spec(stack, "indoor_air")
}

/// preprocessing computing rows of the named feature spec.
pub fn spawn_preprocessing_with_spec(stack: &TestStack, spec: &str) -> Running {
    let mut config = edgeops_preprocessing::PreprocessingConfig::local(
        stack.hub_url.clone(),
        stack.database_url.clone(),
    );
    config.spec = spec.to_owned();
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let task =
        tokio::spawn(
            async move { edgeops_preprocessing::run(config, signal.cancelled_owned()).await },
        );
    Running { stop, task }
}

pub fn spawn_training(stack: &TestStack) -> Running {
    let config =
        edgeops_training::TrainingConfig::local(stack.hub_url.clone(), stack.database_url.clone());
    spawn_training_with(config)
}

pub fn spawn_training_with(config: edgeops_training::TrainingConfig) -> Running {
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let task =
        tokio::spawn(async move { edgeops_training::run(config, signal.cancelled_owned()).await });
    Running { stop, task }
}

/// The signing key [`spawn_registry`] signs with: fixed, so a test can verify manifests
/// against its public half.
pub fn registry_test_key() -> edgeops_artifacts::SigningKeyPair {
    edgeops_artifacts::SigningKeyPair::from_secret_bytes(&[42; 32])
}

/// The registry with [`registry_test_key`], auto-staging on.
pub fn spawn_registry(stack: &TestStack) -> Running {
    let config =
        edgeops_registry::RegistryConfig::local(stack.hub_url.clone(), stack.database_url.clone());
    spawn_registry_with(config, registry_test_key())
}

pub fn spawn_registry_with(
    config: edgeops_registry::RegistryConfig,
    key: edgeops_artifacts::SigningKeyPair,
) -> Running {
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let task = tokio::spawn(async move {
        edgeops_registry::run_with_key(config, key, signal.cancelled_owned()).await
    });
    Running { stop, task }
}

/// A gateway whose inference counters the test can read too.
pub fn spawn_gateway_observed(
    config: GatewayConfig,
) -> (
    Running,
    Arc<ForwarderStats>,
    Arc<edgeops_edge_gateway::inference::InferenceStats>,
) {
    let stats = Arc::new(ForwarderStats::default());
    let inference = Arc::new(edgeops_edge_gateway::inference::InferenceStats::default());
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let (task_stats, task_inference) = (stats.clone(), inference.clone());
    let task = tokio::spawn(async move {
        edgeops_edge_gateway::startup::run_with_all_stats(
            config,
            task_stats,
            task_inference,
            signal.cancelled_owned(),
        )
        .await
    });
    (Running { stop, task }, stats, inference)
}

/// Deployment with its local settings (gates judged every 100 ms).
pub fn spawn_deployment(stack: &TestStack) -> Running {
    spawn_deployment_with(edgeops_deployment::DeploymentConfig::local(
        stack.hub_url.clone(),
        stack.database_url.clone(),
    ))
}

pub fn spawn_deployment_with(config: edgeops_deployment::DeploymentConfig) -> Running {
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let task =
        tokio::spawn(
            async move { edgeops_deployment::run(config, signal.cancelled_owned()).await },
        );
    Running { stop, task }
}

pub fn spawn_monitoring_with(config: edgeops_monitoring::MonitoringConfig) -> Running {
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let task =
        tokio::spawn(
            async move { edgeops_monitoring::run(config, signal.cancelled_owned()).await },
        );
    Running { stop, task }
}
