//! `edgeops simulate`: publish simulated room readings at a site's leaf, as sensors would.

use std::time::Duration;

use edgeops_contracts::{DeviceId, SiteId, subjects};

use edgeops_testkit::simulator::{Room, Sensor, SensorFaults, SimulatedClock};

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
    /// Stop after this many readings, the last one at about now. Without it, run until Ctrl-C:
    /// simulated time starts a day ago, goes at `--rate` until it reaches now, then keeps pace
    /// with the clock (a reading is never from the future, which ingest would refuse).
    #[arg(long)]
    pub count: Option<u64>,
    /// Faults of room-001's sensor (the other rooms stay healthy).
    #[command(flatten)]
    pub faults: FaultArgs,
    /// Simulated seconds between two readings of one room.
    #[arg(long, default_value_t = 60)]
    pub step_secs: u32,
    /// Simulated time ends this many seconds before now (with `--count`), leaving room for a
    /// later run to continue up to now.
    #[arg(long, default_value_t = 0)]
    pub ends_ago_secs: u64,
    /// Simulate but do not publish the first this many readings: with the `--count` and
    /// `--ends-ago-secs` of an earlier run added up, continues that run's rooms exactly.
    #[arg(long, default_value_t = 0)]
    pub skip: u64,
}

/// Switches for the faults of one sensor (see `simulator::faults::SensorFaults`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FaultArgs {
    /// CO2 drift of room-001's sensor, ppm per day.
    #[arg(long, default_value_t = 0.0)]
    pub drift_co2_ppm_per_day: f64,
    /// Temperature drift of room-001's sensor, degrees C per day.
    #[arg(long, default_value_t = 0.0)]
    pub drift_temperature_c_per_day: f64,
    /// room-001's sensor freezes this many simulated minutes after its first reading.
    #[arg(long)]
    pub stuck_after_minutes: Option<i64>,
    /// Share (0..=1) of room-001's readings with an outlier.
    #[arg(long, default_value_t = 0.0)]
    pub spike_share: f64,
    /// Share (0..=1) of room-001's readings never sent.
    #[arg(long, default_value_t = 0.0)]
    pub dropout_share: f64,
    /// Share (0..=1) of room-001's readings whose firmware prints `NaN` (ingest dead-letters them).
    #[arg(long, default_value_t = 0.0)]
    pub nan_share: f64,
}

impl FaultArgs {
    fn faults(&self) -> SensorFaults {
        SensorFaults {
            co2_drift_ppm_per_day: self.drift_co2_ppm_per_day,
            temperature_drift_c_per_day: self.drift_temperature_c_per_day,
            stuck_after: self.stuck_after_minutes.map(chrono::Duration::minutes),
            spike_share: self.spike_share,
            dropout_share: self.dropout_share,
            nan_share: self.nan_share,
        }
    }
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
    let mut sensors: Vec<Sensor> = rooms(args.devices.max(1))
        .into_iter()
        .enumerate()
        .map(|(i, room)| {
            Sensor::new(
                room,
                if i == 0 {
                    args.faults.faults()
                } else {
                    SensorFaults::default()
                },
            )
        })
        .collect();
    let subjects: Vec<String> = sensors
        .iter()
        .map(|sensor| {
            DeviceId::parse(sensor.room.device.clone())
                .map(|device| subjects::raw_reading(&site, &device))
        })
        .collect::<Result<_, _>>()?;
    // Simulated time starts a day ago (or so that `count` readings end about now), and never
    // passes the wall clock: readings from the future would be refused by ingest.
    let span_secs = args.count.map_or(86_400, |count| {
        count.div_ceil(args.devices.max(1) as u64) as i64 * i64::from(args.step_secs)
    });
    let ends_at = chrono::Utc::now() - chrono::Duration::seconds(args.ends_ago_secs as i64);
    let mut clock = SimulatedClock::new(
        ends_at - chrono::Duration::seconds(span_secs.max(60)),
        args.step_secs,
    );
    let interval = (args.rate > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(args.rate)));
    let mut ticker = interval.map(tokio::time::interval);
    tokio::pin!(shutdown);
    let (mut attempted, mut published) = (0u64, 0u64);
    'outer: loop {
        let at = loop {
            match clock.next_round(chrono::Utc::now()) {
                Ok(at) => break at,
                Err(wait) => {
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = &mut shutdown => break 'outer,
                    }
                    // No burst of the ticks missed while waiting.
                    if let Some(ticker) = ticker.as_mut() {
                        ticker.reset();
                    }
                }
            }
        };
        for (sensor, subject) in sensors.iter_mut().zip(&subjects) {
            if args.count.is_some_and(|limit| attempted >= limit) {
                break 'outer;
            }
            attempted += 1;
            if attempted <= args.skip {
                // The rooms still live through the skipped readings: the same state follows.
                let _ = sensor.step(at, f64::from(args.step_secs));
                continue;
            }
            if let Some(ticker) = ticker.as_mut() {
                tokio::select! {
                    _ = ticker.tick() => {}
                    () = &mut shutdown => break 'outer,
                }
            }
            // A dropout is a reading the sensor never sends.
            if let Some(payload) = sensor.step(at, f64::from(args.step_secs)) {
                client.publish(subject.clone(), payload.into()).await?;
                published += 1;
            }
        }
    }
    client.flush().await?;
    Ok(published)
}
