//! The demo's live phase: the rooms go on (simulated time runs faster than real time, so a
//! 30-minute forecast meets its actual reading within seconds) while the first model is rolled
//! out to every room and a broken one is caught and rolled back.

use anyhow::bail;
use edgeops_contracts::SiteId;
use edgeops_contracts::training::TrainingCompleted;
use edgeops_deployment_api::DeploymentClient;
use edgeops_deployment_api::Status;
use edgeops_registry_api::RegistryClient;
use tokio_util::sync::CancellationToken;

use super::{DemoArgs, broken_model, registry, report, rollout};
use crate::commands::simulate::{SimulateArgs, rooms};

/// Simulated time kept back from the first phase for the live one: from the latest 17:00 UTC
/// at least 10 hours ago up to now. The first phase (the training data) then ends at the end of
/// a working day, so the model's holdout is a working day, when forecasting CO2 is hard; the
/// live phase starts as the rooms empty, and has at least 10 simulated hours to run.
pub fn live_secs() -> u64 {
    static LIVE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *LIVE.get_or_init(|| since_last_evening(chrono::Utc::now()))
}

fn since_last_evening(now: chrono::DateTime<chrono::Utc>) -> u64 {
    let earliest = now - chrono::Duration::hours(10);
    let evening = earliest
        .date_naive()
        .and_hms_opt(17, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(earliest);
    let evening = if evening > earliest {
        evening - chrono::Duration::days(1)
    } else {
        evening
    };
    (now - evening).num_seconds().max(0) as u64
}
/// Readings per second in the live phase: 12 rooms at one reading a simulated minute make
/// about 12 simulated minutes a second.
const LIVE_RATE: u32 = 150;

/// The live phase's readings: the first phase's rooms, continued up to now.
fn continuation(args: &DemoArgs, site: &SiteId, leaf_url: &str) -> SimulateArgs {
    let live_readings = args.devices as u64 * live_secs() / 60;
    SimulateArgs {
        site: site.to_string(),
        leaf_url: leaf_url.to_owned(),
        devices: args.devices,
        rate: LIVE_RATE,
        count: Some(args.readings + live_readings),
        faults: Default::default(),
        step_secs: 60,
        ends_ago_secs: 0,
        skip: args.readings,
    }
}

pub async fn deploy(
    hub_js: &async_nats::jetstream::Context,
    site: &SiteId,
    args: &DemoArgs,
    leaf_url: &str,
    first: &TrainingCompleted,
) -> anyhow::Result<()> {
    let stop = CancellationToken::new();
    let publisher = tokio::spawn(crate::commands::simulate::run(
        continuation(args, site, leaf_url),
        stop.clone().cancelled_owned(),
    ));
    report::step(&format!(
        "live: the rooms go on at {LIVE_RATE} readings/s (about 12 simulated minutes a second); every reading the policy lets through gets a forecast at the site, from what the hub trains on"
    ));
    let site_js = async_nats::jetstream::with_domain(
        edgeops_bus::connect(leaf_url, "edgeops-demo-site").await?,
        edgeops_contracts::streams::edge_domain(site),
    );
    let outcome = rollouts(hub_js, &site_js, site, args, first).await;
    stop.cancel();
    let published = publisher.await??;
    report::step(&format!("live: {published} more readings published"));
    outcome
}

/// `site_js` is the site's own JetStream: what each room forecasts is read from the site's
/// forecast stream, where every forecast is kept (the hub gets only the models' ones).
async fn rollouts(
    hub_js: &async_nats::jetstream::Context,
    site_js: &async_nats::jetstream::Context,
    site: &SiteId,
    args: &DemoArgs,
    first: &TrainingCompleted,
) -> anyhow::Result<()> {
    let client = DeploymentClient::new(hub_js.client());
    let model = &first.request.model;
    let devices: Vec<String> = rooms(args.devices).into_iter().map(|r| r.device).collect();
    let shown = &devices[..devices.len().min(3)];
    report::step("forecasts before any model (the gateway says when it serves persistence):");
    rollout::show_forecasts(site_js, site, shown).await?;

    let good = rollout::roll_out(&client, site, model, 1).await?;
    if good.status != Status::Completed {
        bail!("the first model's rollout ended {:?}", good.status);
    }
    rollout::wait_for_serving(site_js, site, &devices, 1).await?;
    report::step(&format!("every room forecasts with {model} v1:"));
    rollout::show_forecasts(site_js, site, shown).await?;

    report::step(&format!(
        "fault injection: v2 looks like v1 offline (same run report) but its ONNX forecasts persistence + {} ppm",
        broken_model::BIAS_PPM
    ));
    let broken = broken_model::inject(hub_js, first).await?;
    let registry = RegistryClient::new(hub_js.client());
    let detail = registry::wait_for_version(&registry, &broken).await?;
    let version = detail.summary.version;
    report::step(&format!(
        "registry: {model} v{version} registered and signed ({}); rolling it out",
        detail.summary.stage
    ));
    let bad = rollout::roll_out(&client, site, model, version).await?;
    if bad.status != Status::RolledBack {
        bail!(
            "the broken version's rollout ended {:?}, not rolled back",
            bad.status
        );
    }
    rollout::wait_for_serving(site_js, site, &devices, 1).await?;
    report::step(&format!(
        "the gate caught v{version} at the canary; every room forecasts with v1 again:"
    ));
    rollout::show_forecasts(site_js, site, shown).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_live_phase_starts_at_the_latest_evening_at_least_ten_hours_back() {
        let at = |d, h, m| chrono::Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap();
        // 09:00: 17:00 yesterday is 16 h back.
        assert_eq!(since_last_evening(at(22, 9, 0)), 16 * 3600);
        // 03:30: 17:00 yesterday is only 10.5 h back, still far enough.
        assert_eq!(since_last_evening(at(22, 3, 30)), 10 * 3600 + 1800);
        // 02:00: 17:00 yesterday is 9 h back; the evening before that.
        assert_eq!(since_last_evening(at(22, 2, 0)), 33 * 3600);
        // 23:00: today's 17:00 is 6 h back; yesterday's.
        assert_eq!(since_last_evening(at(22, 23, 0)), 30 * 3600);
    }
}
