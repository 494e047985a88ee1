//! (e) The live gate on live-like data in Postgres: rooms' CO2 read every minute for two days
//! (`ingest.readings`), forecasts 6 bins ahead from every 5-minute origin
//! (`deployment.forecasts`), fetched by deployment's own queries and judged by its gate. A
//! version 10 % worse than persistence (in mean squared error) fails, one 10 % better passes,
//! and 20 forecasts are undecided: the gate waits, then fails, and never passes.

use chrono::{DateTime, Duration, TimeZone, Utc};
use edgeops_deployment::domain::{Evidence, Verdict, judge};
use edgeops_deployment::live_error::live_comparison;
use edgeops_deployment_api::GateSettings;
use edgeops_features::{FeatureSpec, bin_values};
use edgeops_integration_tests::TestStack;

const SITE: &str = "s1";
const ROOMS: usize = 6;
const HORIZON: i64 = 6;

/// xorshift with Box–Muller normal deviates: the same data on every run.
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single().unwrap()
}

/// A room's minute readings over two days: occupied in the daytime, a slow drift, noise.
fn room(noise: &mut Noise) -> Vec<(DateTime<Utc>, f64)> {
    let mut drift = 0.0;
    (0..48 * 60)
        .map(|minute| {
            drift = 0.98 * drift + 6.0 * noise.normal();
            let occupied = ((minute as f64 / 60.0) % 24.0 - 8.0).clamp(0.0, 10.0);
            let level = 450.0 + 40.0 * occupied * (std::f64::consts::PI * occupied / 10.0).sin();
            (
                start() + Duration::minutes(minute),
                level + drift + 5.0 * noise.normal(),
            )
        })
        .collect()
}

fn device(i: usize) -> String {
    format!("room-{i:03}")
}

async fn store_readings(pool: &sqlx::PgPool, rooms: &[Vec<(DateTime<Utc>, f64)>]) {
    for (i, samples) in rooms.iter().enumerate() {
        let times: Vec<DateTime<Utc>> = samples.iter().map(|(t, _)| *t).collect();
        let metrics: Vec<serde_json::Value> = samples
            .iter()
            .map(|(_, v)| serde_json::json!({ "co2_ppm": v, "temperature_c": 21.0 }))
            .collect();
        sqlx::query(
            "INSERT INTO ingest.readings (site_id, device_id, observed_at, metrics, hub_sequence)
             SELECT $1, $2, t, m, 0 FROM unnest($3::timestamptz[], $4::jsonb[]) AS u(t, m)",
        )
        .bind(SITE)
        .bind(device(i))
        .bind(&times)
        .bind(&metrics)
        .execute(pool)
        .await
        .unwrap();
    }
}

/// Stores `version`'s forecasts for at most `per_room` origins a room: each catches 30 % of
/// the change persistence misses, plus noise sized so that its mean squared error is `ratio`
/// times persistence's over those forecasts.
async fn store_forecasts(
    pool: &sqlx::PgPool,
    rooms: &[Vec<(DateTime<Utc>, f64)>],
    version: i32,
    ratio: f64,
    per_room: usize,
    seed: u64,
) {
    let spec = FeatureSpec::indoor_air();
    let step = spec.interval_secs;
    let chosen: Vec<Vec<(i64, f64, f64)>> = rooms
        .iter()
        .map(|samples| {
            let bins = bin_values(&spec, &spec.target, samples);
            bins.iter()
                .filter_map(|(bin, (value, _))| {
                    let (actual, _) = bins.get(&(bin + HORIZON * step))?;
                    Some((*bin, *value, *actual))
                })
                .take(per_room)
                .collect()
        })
        .collect();
    let squares: Vec<f64> = chosen
        .iter()
        .flatten()
        .map(|(_, v, a)| (a - v).powi(2))
        .collect();
    let persistence = squares.iter().sum::<f64>() / squares.len() as f64;
    let catch = 0.3;
    let own = ((ratio - (1.0 - catch) * (1.0_f64 - catch)) * persistence).sqrt();
    let mut noise = Noise(seed);
    let at = |s: i64| Utc.timestamp_opt(s, 0).single().unwrap();
    for (i, origins) in chosen.iter().enumerate() {
        let (mut origin, mut target, mut value) = (vec![], vec![], vec![]);
        for (bin, v, a) in origins {
            origin.push(at(*bin));
            target.push(at(bin + HORIZON * step));
            value.push(v + catch * (a - v) + own * noise.normal());
        }
        sqlx::query(
            "INSERT INTO deployment.forecasts
                 (site_id, device_id, metric, origin_at, target_at, model, version, value)
             SELECT $1, $2, 'co2_ppm', o, t, 'co2-room', $3, v
             FROM unnest($4::timestamptz[], $5::timestamptz[], $6::float8[]) AS u(o, t, v)",
        )
        .bind(SITE)
        .bind(device(i))
        .bind(version)
        .bind(&origin)
        .bind(&target)
        .bind(&value)
        .execute(pool)
        .await
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_live_gate_fails_10_percent_worse_passes_10_percent_better_waits_on_few() {
    let stack = TestStack::start(&[]).await;
    let pool = stack.pool().await;
    edgeops_store::migrate(&pool).await.unwrap();
    let mut noise = Noise(2026);
    let rooms: Vec<_> = (0..ROOMS).map(|_| room(&mut noise)).collect();
    store_readings(&pool, &rooms).await;
    let since = Utc::now() - Duration::minutes(1);
    store_forecasts(&pool, &rooms, 2, 1.10, usize::MAX, 7).await;
    store_forecasts(&pool, &rooms, 3, 0.90, usize::MAX, 11).await;
    store_forecasts(&pool, &rooms, 4, 0.90, 4, 13).await;

    let spec = FeatureSpec::indoor_air();
    let devices: Vec<String> = (0..ROOMS)
        .map(|i| format!("{SITE}:{}", device(i)))
        .collect();
    let settings = GateSettings::default();
    let verdict = |version: u32, elapsed_secs: u64| {
        let (pool, spec, devices, settings) = (&pool, &spec, &devices, &settings);
        async move {
            let live = live_comparison(pool, spec, "co2-room", version, devices, since)
                .await
                .unwrap();
            let evidence = Evidence {
                applied: ROOMS,
                failed: 0,
                elapsed_secs,
                live: Some(live),
            };
            judge(settings, ROOMS, &evidence)
        }
    };

    let worse = verdict(2, 300).await;
    eprintln!("10 % worse: {worse:?}");
    assert!(
        matches!(&worse, Verdict::Fail { reason } if reason.contains("worse than persistence")
            && reason.contains("forecasts of 6 devices, targets 2026-01-05 00:30 to 2026-01-06")),
        "{worse:?}"
    );
    let better = verdict(3, 300).await;
    eprintln!("10 % better: {better:?}");
    assert!(
        matches!(&better, Verdict::Pass { summary } if summary.contains("below 1.05x")
            && summary.contains("forecasts of 6 devices")),
        "{better:?}"
    );
    let few = verdict(4, 300).await;
    assert!(
        matches!(&few, Verdict::Wait { why } if why.contains("too few forecasts judged yet (need 30): 24 forecasts of 6 devices")),
        "{few:?}"
    );
    let timed_out = verdict(4, 4 * settings.window_secs).await;
    assert!(
        matches!(&timed_out, Verdict::Fail { reason } if reason.starts_with("undecided after 1200 s")),
        "{timed_out:?}"
    );
}
