//! A running hub service: its connections, and the tasks it drains on shutdown.

use std::collections::HashMap;
use std::future::Future;

use async_nats::Client;
use async_nats::jetstream::Context;
use edgeops_bus::topology::{HubSettings, hub_topology};
use edgeops_bus::{BatchHandler, ConsumerRunner};
use edgeops_store::sqlx::PgPool;
use tokio::task::{Id, JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::args::{DatabaseArgs, HubArgs};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(transparent)]
    Connect(#[from] edgeops_bus::ConnectError),
    #[error("provisioning hub streams: {0}")]
    Provision(#[source] edgeops_bus::ProvisionError),
    #[error("preparing Postgres: {0}")]
    Database(#[source] edgeops_store::StoreError),
    #[error("{task}: {source}")]
    Task {
        task: String,
        #[source]
        source: BoxError,
    },
    #[error("{task} panicked: {source}")]
    Panicked {
        task: String,
        #[source]
        source: JoinError,
    },
    #[error("flushing acks: {0}")]
    Flush(#[source] async_nats::client::FlushError),
}

/// What a task returns: nothing, or a result whose error the host reports with the task's name.
pub trait TaskOutcome: Send + 'static {
    fn into_result(self) -> Result<(), BoxError>;
}

impl TaskOutcome for () {
    fn into_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError> + Send + 'static> TaskOutcome for Result<(), E> {
    fn into_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// How a service is started: see [`Host::builder`].
pub struct HostBuilder<'a> {
    service: &'static str,
    hub: &'a HubArgs,
    settings: Option<HubSettings>,
}

impl HostBuilder<'_> {
    /// Provisions the hub topology with these settings instead of the defaults.
    pub fn hub_settings(mut self, settings: HubSettings) -> Self {
        self.settings = Some(settings);
        self
    }

    /// Leaves streams and consumers alone when `skip` (an operator manages them).
    pub fn skip_provision(mut self, skip: bool) -> Self {
        if skip {
            self.settings = None;
        }
        self
    }

    /// Connects to the hub, provisions its topology, connects a pool of at most
    /// `max_connections` to `database` and applies the migrations (each service owns a schema).
    pub async fn start(
        self,
        database: &DatabaseArgs,
        max_connections: u32,
    ) -> Result<Host, HostError> {
        let (client, js) = self.hub.connect(self.service).await?;
        if let Some(settings) = &self.settings {
            edgeops_bus::provision(&js, &hub_topology(settings))
                .await
                .map_err(HostError::Provision)?;
        }
        let pool = database
            .connect_and_migrate(max_connections)
            .await
            .map_err(HostError::Database)?;
        Ok(Host {
            service: self.service,
            client,
            js,
            pool,
            stop: CancellationToken::new(),
            main: Tasks::default(),
            helpers: Tasks::default(),
        })
    }
}

#[derive(Default)]
struct Tasks {
    set: JoinSet<Result<(), BoxError>>,
    names: HashMap<Id, String>,
}

impl Tasks {
    fn spawn<O: TaskOutcome>(
        &mut self,
        name: String,
        task: impl Future<Output = O> + Send + 'static,
    ) {
        let handle = self.set.spawn(async move { task.await.into_result() });
        self.names.insert(handle.id(), name);
    }

    /// The next task to end, as its name and what it returned; `None` when none is left.
    async fn next(&mut self) -> Option<Result<(), HostError>> {
        let done = self.set.join_next_with_id().await?;
        Some(self.named(done))
    }

    fn named(
        &mut self,
        done: Result<(Id, Result<(), BoxError>), JoinError>,
    ) -> Result<(), HostError> {
        match done {
            Ok((id, result)) => result.map_err(|source| HostError::Task {
                task: self.names.remove(&id).unwrap_or_default(),
                source,
            }),
            Err(source) => Err(HostError::Panicked {
                task: self.names.remove(&source.id()).unwrap_or_default(),
                source,
            }),
        }
    }
}

/// A hub service's connections and tasks. *Main* tasks (consumers, [`Host::spawn`]) are the
/// service: when one ends before shutdown, the host stops the rest and returns its result.
/// *Helpers* (micro services, [`Host::spawn_helper`]) serve beside them: their errors are logged.
pub struct Host {
    service: &'static str,
    client: Client,
    js: Context,
    pool: PgPool,
    stop: CancellationToken,
    main: Tasks,
    helpers: Tasks,
}

impl Host {
    /// Starts describing `service` (`ingest`, `registry`, …; the NATS connection is named
    /// `edgeops-<service>`), on the hub `hub`, provisioned with the default hub settings.
    pub fn builder<'a>(service: &'static str, hub: &'a HubArgs) -> HostBuilder<'a> {
        HostBuilder {
            service,
            hub,
            settings: Some(HubSettings::default()),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The hub's JetStream domain.
    pub fn js(&self) -> &Context {
        &self.js
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Cancelled when the service is asked to stop.
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Runs `runner` until shutdown; it then stops pulling and settles the messages in hand.
    pub fn consume<H: BatchHandler>(&mut self, runner: ConsumerRunner<H>) {
        let name = format!("consumer {}", runner.durable());
        self.main.spawn(name, runner.run(self.stop.clone()));
    }

    /// Runs `task` (given the stop token) as part of the service.
    pub fn spawn<O, Fut>(&mut self, name: &str, task: impl FnOnce(CancellationToken) -> Fut)
    where
        O: TaskOutcome,
        Fut: Future<Output = O> + Send + 'static,
    {
        self.main.spawn(name.to_owned(), task(self.stop.clone()));
    }

    /// Runs `task` (given the stop token) beside the service: if it fails, the service goes on.
    pub fn spawn_helper<O, Fut>(&mut self, name: &str, task: impl FnOnce(CancellationToken) -> Fut)
    where
        O: TaskOutcome,
        Fut: Future<Output = O> + Send + 'static,
    {
        self.helpers.spawn(name.to_owned(), task(self.stop.clone()));
    }

    /// Runs the service's NATS micro service (`serve` gets the client and the stop token; see
    /// `edgeops_bus::service::serve`), which finishes the requests in hand before it deregisters.
    pub fn micro<O, Fut>(&mut self, serve: impl FnOnce(Client, CancellationToken) -> Fut)
    where
        O: TaskOutcome,
        Fut: Future<Output = O> + Send + 'static,
    {
        let client = self.client.clone();
        self.spawn_helper("the micro service", |stop| serve(client, stop));
    }

    /// Runs until `shutdown` resolves or a main task ends; then cancels the stop token, waits
    /// for every task to settle what it holds, flushes the acks and closes the pool.
    pub async fn run(mut self, shutdown: impl Future<Output = ()> + Send) -> Result<(), HostError> {
        let service = self.service;
        let mut outcome = tokio::select! {
            () = shutdown => {
                tracing::info!("draining in-flight messages and requests");
                Ok(())
            }
            Some(ended) = self.main.next() => {
                tracing::warn!("a task of {service} ended; stopping the rest");
                ended
            }
        };
        self.stop.cancel();
        while let Some(ended) = self.main.next().await {
            if let Err(err) = ended {
                if outcome.is_ok() {
                    outcome = Err(err);
                } else {
                    tracing::warn!(error = %err, "another task of {service} failed");
                }
            }
        }
        while let Some(ended) = self.helpers.next().await {
            if let Err(err) = ended {
                tracing::warn!(error = %err, "stopping a helper of {service}");
            }
        }
        self.client.flush().await.map_err(HostError::Flush)?;
        self.pool.close().await;
        tracing::info!("{service} stopped");
        outcome
    }
}
