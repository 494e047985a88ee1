//! `edgeops simulate`: publish simulated room readings at a site's leaf, as sensors would.

use std::time::Duration;

use edgeops_contracts::{DeviceId, SiteId, subjects};

use crate::simulator::Room;

#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// Site the rooms belong to.
    #[arg(long, env = "EDGEOPS_SITE", default_value = "s1")]
    pub site: String,
    /// NATS URL of the site's leaf server.
    #[arg(
        long,
        env = "EDGEOPS_LEAF_URL",
        default_value = "nats://127.0.0.1:4223"
    )]
    pub leaf_url: String,
    /// Number of rooms (one sensor box each).
    #[arg(long, default_value_t = 8)]
    pub devices: usize,
    /// Readings per second, across all rooms (0 = as fast as possible).
    #[arg(long, default_value_t = 20)]
    pub rate: u32,
    /// Stop after this many readings (default: run until Ctrl-C).
    #[arg(long)]
    pub count: Option<u64>,
    /// Simulated seconds between two readings of one room.
    #[arg(long, default_value_t = 60)]
    pub step_secs: u32,
}

/// The rooms of a site, named `room-001`, `room-002`, ...
pub fn rooms(count: usize) -> Vec<Room> {
    (0..count)
        .map(|i| Room::new(format!("room-{:03}", i + 1), i as u64 + 1))
        .collect()
}

pub async fn run(
    args: SimulateArgs,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<u64> {
    let site = SiteId::parse(args.site.clone())?;
    let client = edgeops_bus::connect(&args.leaf_url, "edgeops-simulator").await?;
    let mut rooms = rooms(args.devices.max(1));
    let subjects: Vec<String> = rooms
        .iter()
        .map(|room| {
            DeviceId::parse(room.device.clone()).map(|device| subjects::raw_reading(&site, &device))
        })
        .collect::<Result<_, _>>()?;
    // Simulated time starts a day ago so every reading is in the past when it arrives.
    let mut clock = chrono::Utc::now() - chrono::Duration::days(1);
    let interval = (args.rate > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(args.rate)));
    let mut ticker = interval.map(tokio::time::interval);
    tokio::pin!(shutdown);
    let mut published = 0u64;
    'outer: loop {
        for (room, subject) in rooms.iter_mut().zip(&subjects) {
            if args.count.is_some_and(|limit| published >= limit) {
                break 'outer;
            }
            if let Some(ticker) = ticker.as_mut() {
                tokio::select! {
                    _ = ticker.tick() => {}
                    () = &mut shutdown => break 'outer,
                }
            }
            client
                .publish(
                    subject.clone(),
                    room.step(clock, f64::from(args.step_secs)).into(),
                )
                .await?;
            published += 1;
        }
        clock += chrono::Duration::seconds(i64::from(args.step_secs));
    }
    client.flush().await?;
    Ok(published)
}
