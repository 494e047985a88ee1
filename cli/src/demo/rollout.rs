//! The demo's deployment step. The first model goes to every room of the site, canary first and
//! then in waves, each wave gated on the devices' acknowledgements and on the live forecast error
//! of the new version against persistence at the same origins and horizon. Then a deliberately
//! broken version is rolled out the same way; the live-error gate catches it at the canary and
//! rolls those rooms back to the first model.

use std::time::Duration;

use anyhow::{Context as _, bail};
use async_nats::jetstream::stream::LastRawMessageErrorKind;
use edgeops_contracts::deployment::Forecast;
use edgeops_contracts::streams;
use edgeops_contracts::{DeviceId, SiteId, subjects};
use edgeops_deployment_api::DeploymentClient;
use edgeops_deployment_api::{GateSettings, Selector, Status, Strategy};
use edgeops_deployment_api::{RolloutStatus, StartRequest};

use super::report;

/// Gates short enough for a demo: a wave serves 5 s (about an hour of simulated readings)
/// before it is judged by the default rule, on at least 10 judged forecasts (a 30-minute
/// forecast is judged once its target bin closes, about 3 s later; a room forecasts when a
/// reading travels, a few times an hour as CO2 decays); an undecided wave waits up to 4
/// windows, then fails. Short on purpose: the live phase starts as the rooms empty, when
/// CO2 decays and the model is clearly better than persistence; later in the night the rooms
/// are flat, and a good model is only about as good as persistence (seen: MSE 0.86x-1.06x
/// persistence's over some 320 forecasts, undecided for 40 s, so the wave failed).
fn demo_gates() -> GateSettings {
    GateSettings {
        window_secs: 5,
        min_forecasts: 10,
        max_failed_devices: 0,
        apply_timeout_secs: 60,
        ..GateSettings::default()
    }
}

/// Rolls `version` of `model` out to every device of `site`; returns the final status.
pub async fn roll_out(
    client: &DeploymentClient,
    site: &SiteId,
    model: &str,
    version: u32,
) -> anyhow::Result<RolloutStatus> {
    // Half the rooms, then all: two gates, both judged while the rooms still empty in the
    // evening (see `demo_gates`), each on enough rooms for the data to tell.
    let strategy = Strategy {
        canary_share: 0.5,
        waves: vec![1.0],
    };
    let started = client
        .start(&StartRequest {
            model: model.into(),
            version,
            selector: Selector {
                sites: vec![site.to_string()],
                ..Default::default()
            },
            strategy: Some(strategy),
            gates: Some(demo_gates()),
            actor: "demo".into(),
        })
        .await
        .context("starting the rollout")?;
    report::step(&format!(
        "rollout {}: {model} v{version} to {} rooms of {site}; waves of {:?} devices (canary first); gates: acks, then after {} s the wave's live forecasts against persistence at the same origins and horizon: fail if worse, pass if MSE below {:.2}x (95 % confidence, at least {} judged)",
        started.rollout,
        started.targets,
        started.waves,
        demo_gates().window_secs,
        demo_gates().max_error_ratio,
        demo_gates().min_forecasts
    ));
    follow(client, started.rollout).await
}

/// Prints each change of the rollout until it ends.
async fn follow(client: &DeploymentClient, rollout: uuid::Uuid) -> anyhow::Result<RolloutStatus> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    let mut shown = 0;
    loop {
        let status = client.status(rollout).await?;
        for entry in status.history.iter().skip(shown) {
            println!("    {:<24} {}", entry.event_type, entry.detail);
        }
        shown = status.history.len();
        if matches!(
            status.status,
            Status::Completed | Status::RolledBack | Status::Cancelled
        ) {
            return Ok(status);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("rollout {rollout} did not finish within 180 s");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The latest forecast one device made, if any, from the site's own forecast stream
/// (`site_js` is the site's JetStream domain): every forecast is kept there, persistence's too.
pub async fn latest_forecast(
    site_js: &async_nats::jetstream::Context,
    site: &SiteId,
    device: &str,
) -> anyhow::Result<Option<Forecast>> {
    let device = DeviceId::parse(device.to_owned())?;
    let stream = site_js.get_stream(streams::LOCAL_FORECASTS).await?;
    match stream
        .get_last_raw_message_by_subject(&subjects::forecast(site, &device))
        .await
    {
        Ok(message) => Ok(Some(serde_json::from_slice(&message.payload)?)),
        Err(err) if err.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// One line per device: what its latest forecast was made by.
pub async fn show_forecasts(
    js: &async_nats::jetstream::Context,
    site: &SiteId,
    devices: &[String],
) -> anyhow::Result<()> {
    for device in devices {
        if let Some(f) = latest_forecast(js, site, device).await? {
            let by = match (&f.model, f.version) {
                (Some(model), Some(version)) => format!("{model} v{version}"),
                _ => "persistence (no model)".to_owned(),
            };
            println!(
                "      {device}: {} {:.0} at {} by {by}",
                f.metric,
                f.value,
                f.valid_at.format("%m-%d %H:%M")
            );
        }
    }
    Ok(())
}

/// Waits until the latest forecast of every device in `devices` comes from `version`.
pub async fn wait_for_serving(
    js: &async_nats::jetstream::Context,
    site: &SiteId,
    devices: &[String],
    version: u32,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut serving = 0;
        for device in devices {
            if latest_forecast(js, site, device)
                .await?
                .is_some_and(|f| f.version == Some(version))
            {
                serving += 1;
            }
        }
        if serving == devices.len() {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            bail!(
                "{serving} of {} devices forecast with v{version} after 60 s",
                devices.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
