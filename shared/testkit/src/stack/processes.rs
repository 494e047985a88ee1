//! Processes and containers of a local stack: nats-server processes (hub and leaf) and a
//! Postgres container, each stopped cleanly when dropped or asked to.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::process::{Child, Command};

use super::{POSTGRES_IMAGE, image_reference};

/// A free TCP port on loopback (the OS picks; we release it immediately for the server).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The nats-server binary: `$EDGEOPS_NATS_SERVER`, the bootstrap's `.tools/bin`, or `PATH`.
pub fn nats_server_binary() -> anyhow::Result<PathBuf> {
    if let Ok(path) = std::env::var("EDGEOPS_NATS_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let local = PathBuf::from(".tools/bin/nats-server");
    if local.exists() {
        return Ok(local);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("nats-server"))
        .find(|candidate| candidate.exists());
    on_path.context(
        "nats-server not found: run infra/scripts/bootstrap.sh (or set EDGEOPS_NATS_SERVER)",
    )
}

/// How to (re)start one nats-server of a local stack: its config and log live in the stack's directory.
pub struct NatsLauncher {
    binary: PathBuf,
    config: PathBuf,
    log: PathBuf,
    port: u16,
}

impl NatsLauncher {
    pub fn new(binary: &Path, dir: &Path, name: &str, port: u16) -> Self {
        Self {
            binary: binary.to_owned(),
            config: dir.join(format!("{name}.conf")),
            log: dir.join(format!("{name}.log")),
            port,
        }
    }

    pub async fn start(&self) -> anyhow::Result<NatsProcess> {
        NatsProcess::start(&self.binary, &self.config, self.port, &self.log).await
    }
}

pub struct NatsProcess {
    child: Child,
}

impl NatsProcess {
    /// Starts nats-server with `config` and waits until it accepts connections on `port`.
    pub async fn start(
        binary: &Path,
        config: &Path,
        port: u16,
        log: &Path,
    ) -> anyhow::Result<Self> {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let child = Command::new(binary)
            .arg("-c")
            .arg(config)
            .stdout(Stdio::null())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let process = Self { child };
        wait_for_port(port, Duration::from_secs(15))
            .await
            .with_context(|| format!("nats-server did not start; see {}", log.display()))?;
        Ok(process)
    }

    /// SIGTERM, then wait (nats-server flushes JetStream and exits).
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status()
                .await;
        }
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

async fn wait_for_port(port: u16, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("nothing listening on 127.0.0.1:{port} after {timeout:?}")
}

/// A throwaway Postgres from the locally built [`POSTGRES_IMAGE`], run with `docker run`.
pub struct PostgresContainer {
    pub name: String,
    pub port: u16,
}

/// Server settings for a write-heavy projection store, durability untouched: buffers that hold
/// the recent part of the readings table and its indexes (the default is 128 MB), and room for
/// WAL between checkpoints so that a burst (a backlog draining) does not force one every few
/// hundred thousand rows, each followed by full-page images of every page touched.
pub const INGEST_SETTINGS: &[&str] = &[
    "-c",
    "shared_buffers=1GB",
    "-c",
    "max_wal_size=4GB",
    "-c",
    "checkpoint_timeout=15min",
];

impl PostgresContainer {
    /// A Postgres with extra server settings (`-c name=value` pairs).
    pub async fn start_with(name: &str, settings: &[&str]) -> anyhow::Result<Self> {
        let image = image_reference(POSTGRES_IMAGE);
        let output = Command::new("docker")
            .args([
                "run",
                "-d",
                "--rm",
                "--name",
                name,
                "-p",
                "127.0.0.1::5432",
                // The data directory on an anonymous volume (removed with the container), as
                // one runs Postgres in Docker: writes then skip the container's layered
                // filesystem, which costs the most where the storage driver is FUSE-based.
                "--volume",
                "/var/lib/postgresql/data",
                &image,
            ])
            .args(settings)
            .output()
            .await
            .context("running docker (a local stack's Postgres runs in a local container)")?;
        if !output.status.success() {
            bail!(
                "docker run {image} failed: {}\nRun infra/scripts/bootstrap.sh to build the image.",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let port_line = Command::new("docker")
            .args(["port", name, "5432/tcp"])
            .output()
            .await?;
        let text = String::from_utf8_lossy(&port_line.stdout);
        let port = text
            .lines()
            .find_map(|line| line.rsplit(':').next().and_then(|p| p.trim().parse().ok()))
            .with_context(|| format!("no published port for {name}: {text}"))?;
        let container = Self {
            name: name.to_owned(),
            port,
        };
        wait_for_port(port, Duration::from_secs(30)).await?;
        Ok(container)
    }

    /// Removes the container and its data volume.
    pub async fn stop(self) {
        let _ = Command::new("docker")
            .args(["rm", "--force", "--volumes", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await;
    }
}
