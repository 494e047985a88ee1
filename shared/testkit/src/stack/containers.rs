//! The container backend, as the integration tests run it (`ContainerStack`, re-exported there as
//! `TestStack`): a hub NATS, one leaf NATS per site (linked to the hub over a Docker network that
//! can be cut), and Postgres with a database made for this test, each test in its own containers
//! and networks. Everything is removed when it drops.

// A test harness: a failed step must fail the test at once, with the reason in the message.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use edgeops_contracts::events::SiteRegistered;
use edgeops_contracts::{Actor, SiteId, subjects};
use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};
use uuid::Uuid;

use super::uplink::Uplink;
use super::{
    LEAF_LINK_PORT, NATS_IMAGE, POSTGRES_IMAGE, create_database, hub_jetstream, image_reference,
    leaf_remote, postgres_url, register_sites,
};
use crate::nats_config::{Listen, hub_config, leaf_config};

pub struct Leaf {
    pub site: SiteId,
    pub url: String,
    /// `mqtt://127.0.0.1:<port>` host and port of the leaf's MQTT listener.
    pub mqtt_port: u16,
    /// `http://127.0.0.1:<port>`: the leaf's monitoring endpoint (`/leafz`, `/varz`).
    pub monitor_url: String,
    pub container_name: String,
    pub container: ContainerAsync<GenericImage>,
}

pub struct ContainerStack {
    /// Unique per test: names the network, containers and database.
    pub id: String,
    pub hub_url: String,
    pub hub: ContainerAsync<GenericImage>,
    pub leaves: Vec<Leaf>,
    pub database_url: String,
    pub postgres: ContainerAsync<GenericImage>,
    /// Declared last: dropped after the containers it joins.
    pub uplink: Uplink,
}

/// Fails with instructions when Docker or the locally built images are missing.
fn require_docker() {
    let images = std::process::Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}"])
        .arg(image_reference(NATS_IMAGE))
        .arg(image_reference(POSTGRES_IMAGE))
        .output();
    match images {
        Err(err) => panic!(
            "integration tests need Docker, and `docker` could not run ({err}). Install Docker, then run infra/scripts/bootstrap.sh"
        ),
        Ok(out) if !out.status.success() => panic!(
            "integration tests need the locally built images {} and {} and a running Docker daemon: {}\nRun infra/scripts/bootstrap.sh",
            image_reference(NATS_IMAGE),
            image_reference(POSTGRES_IMAGE),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Ok(_) => {}
    }
}

fn nats_image() -> GenericImage {
    GenericImage::new(NATS_IMAGE.0, NATS_IMAGE.1)
        .with_exposed_port(4222.tcp())
        .with_wait_for(WaitFor::message_on_stderr("Server is ready"))
}

impl ContainerStack {
    /// Starts a hub, one leaf per site and Postgres. Sites are not registered: see
    /// [`ContainerStack::register_sites`].
    pub async fn start(sites: &[&str]) -> Self {
        require_docker();
        // The random tail of a v7 id: two tests starting in the same millisecond still differ.
        let id = Uuid::now_v7().simple().to_string()[20..].to_owned();
        let hub_name = format!("hub-{id}");
        let mut uplink = Uplink::create(&id);
        let hub_conf = hub_config("hub", &Listen::container(), LEAF_LINK_PORT);
        let hub = nats_image()
            .with_network(format!("edgeops-hub-{id}"))
            .with_container_name(&hub_name)
            .with_copy_to("/etc/nats/hub.conf", hub_conf.into_bytes())
            .with_cmd(["-c", "/etc/nats/hub.conf"])
            .start()
            .await
            .unwrap_or_else(|e| panic!("starting the hub NATS container: {e}"));
        uplink.join(&hub_name);
        let hub_url = format!(
            "nats://127.0.0.1:{}",
            hub.get_host_port_ipv4(4222).await.unwrap_or_default()
        );

        let mut leaves = Vec::new();
        for site in sites {
            let site = SiteId::parse(*site).unwrap_or_else(|e| panic!("{e}"));
            let conf = leaf_config(
                &site,
                &Listen::container(),
                &leaf_remote(&hub_name, LEAF_LINK_PORT),
            );
            let container_name = format!("leaf-{site}-{id}");
            let container = nats_image()
                .with_exposed_port(1883.tcp())
                .with_exposed_port(8222.tcp())
                .with_network(format!("edgeops-{site}-{id}"))
                .with_container_name(&container_name)
                .with_copy_to("/etc/nats/leaf.conf", conf.into_bytes())
                .with_cmd(["-c", "/etc/nats/leaf.conf"])
                .start()
                .await
                .unwrap_or_else(|e| panic!("starting the leaf NATS container for {site}: {e}"));
            let url = format!(
                "nats://127.0.0.1:{}",
                container.get_host_port_ipv4(4222).await.unwrap_or_default()
            );
            uplink.join(&container_name);
            let mqtt_port = container.get_host_port_ipv4(1883).await.unwrap_or_default();
            let monitor_url = format!(
                "http://127.0.0.1:{}",
                container.get_host_port_ipv4(8222).await.unwrap_or_default()
            );
            leaves.push(Leaf {
                site,
                url,
                mqtt_port,
                monitor_url,
                container_name,
                container,
            });
        }

        let postgres = GenericImage::new(POSTGRES_IMAGE.0, POSTGRES_IMAGE.1)
            .with_exposed_port(5432.tcp())
            .with_wait_for(WaitFor::message_on_stderr(
                "database system is ready to accept connections",
            ))
            .with_cmd(["-c", "fsync=off", "-c", "max_connections=50"])
            .start()
            .await
            .unwrap_or_else(|e| panic!("starting the Postgres container: {e}"));
        let port = postgres.get_host_port_ipv4(5432).await.unwrap_or_default();
        let database = format!("test_{id}");
        create_database(port, &database)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        let database_url = postgres_url(port, &database);

        let stack = Self {
            id,
            hub_url,
            hub,
            leaves,
            database_url,
            postgres,
            uplink,
        };
        for leaf in &stack.leaves {
            stack.wait_for_uplink(leaf.site.as_str()).await;
        }
        stack
    }

    /// Waits until a message published at the site's leaf reaches a subscriber on the hub.
    pub async fn wait_for_uplink(&self, site: &str) {
        let hub = self.hub_client().await;
        let leaf = self.leaf_client(site).await;
        let probe = subjects::link_probe(&self.id, site);
        let mut subscription = hub
            .subscribe(probe.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        hub.flush().await.unwrap_or_else(|e| panic!("{e}"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            leaf.publish(probe.clone(), "ping".into())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            leaf.flush().await.unwrap_or_else(|e| panic!("{e}"));
            let heard = tokio::time::timeout(
                std::time::Duration::from_millis(200),
                futures::StreamExt::next(&mut subscription),
            )
            .await;
            if matches!(heard, Ok(Some(_))) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the leaf link of {site} did not come up within 30 s"
            );
        }
    }

    /// Cuts the site's leaf link to the hub (the leaf itself stays reachable).
    pub fn cut_uplink(&self, site: &str) {
        self.uplink.cut(&self.leaf(site).container_name);
    }

    pub fn restore_uplink(&self, site: &str) {
        self.uplink.restore(&self.leaf(site).container_name);
    }

    pub fn leaf(&self, site: &str) -> &Leaf {
        self.leaves
            .iter()
            .find(|leaf| leaf.site.as_str() == site)
            .unwrap_or_else(|| panic!("no leaf for site {site}"))
    }

    pub async fn hub_client(&self) -> async_nats::Client {
        edgeops_bus::connect(&self.hub_url, "test-hub")
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn leaf_client(&self, site: &str) -> async_nats::Client {
        edgeops_bus::connect(&self.leaf(site).url, "test-sensor")
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn hub_js(&self) -> async_nats::jetstream::Context {
        hub_jetstream(&self.hub_url, "test-hub")
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn pool(&self) -> sqlx::PgPool {
        edgeops_store::connect(&self.database_url, 4, Duration::from_secs(10))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Every message of a hub stream, in stream order: (subject, payload).
    pub async fn hub_messages(&self, stream: &str) -> Vec<(String, Vec<u8>)> {
        self.hub_messages_with_ids(stream)
            .await
            .into_iter()
            .map(|(subject, payload, _)| (subject, payload))
            .collect()
    }

    /// Every message of a hub stream with its `Nats-Msg-Id` and stream sequence, in order.
    pub async fn hub_messages_with_ids(&self, stream: &str) -> Vec<(String, Vec<u8>, String)> {
        use async_nats::jetstream::consumer::{DeliverPolicy, pull};
        use futures::StreamExt;
        let stream = self
            .hub_js()
            .await
            .get_stream(stream)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let count = stream
            .get_info()
            .await
            .map(|i| i.state.messages as usize)
            .unwrap_or_else(|e| panic!("{e}"));
        let consumer = stream
            .create_consumer(pull::OrderedConfig {
                deliver_policy: DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut messages = consumer
            .messages()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .take(count);
        let mut out = Vec::with_capacity(count);
        while let Some(message) = messages.next().await {
            let message = message.unwrap_or_else(|e| panic!("{e}"));
            let id = message
                .headers
                .as_ref()
                .and_then(|h| h.get("Nats-Msg-Id"))
                .map(|id| id.as_str().to_owned())
                .unwrap_or_default();
            let sequence = message.info().map(|i| i.stream_sequence).unwrap_or(0);
            out.push((
                message.subject.to_string(),
                message.payload.to_vec(),
                format!("{id} (stream sequence {sequence})"),
            ));
        }
        out
    }

    /// Provisions the hub topology and registers `sites`, as an operator would.
    pub async fn register_sites(&self, sites: &[&str]) {
        let registered = sites.iter().map(|site| SiteRegistered {
            site: SiteId::parse(*site).unwrap_or_else(|e| panic!("{e}")),
            display_name: format!("test site {site}"),
            tags: vec![],
        });
        register_sites(
            &self.hub_js().await,
            registered,
            &Actor::User("test".into()),
        )
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    }
}
