//! Window summaries at the edge, end to end: real hub and leaf NATS, a verified model serving
//! the device, the forward-everything policy (so the hub holds every reading). Summaries made
//! while the uplink is cut reach the hub's `SUMMARIES` once each when it returns; their paired
//! error equals `edgeops_evaluation::pair_device` over the hub's readings and the forecasts;
//! a restarted gateway emits only the windows it had not emitted.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use edgeops_contracts::deployment::{Forecast, ForecastKind};
use edgeops_contracts::monitoring::{PairedErrorSums, WindowSummary};
use edgeops_contracts::streams;
use edgeops_evaluation::pair_device;
use edgeops_integration_tests::services::spawn_gateway_observed;
use edgeops_integration_tests::{TestStack, check, wait_until};

use crate::edge_inference::fixtures::*;
use crate::support::{stream_messages, wait_for_local_stream};

fn local_js(leaf: &async_nats::Client) -> async_nats::jetstream::Context {
    async_nats::jetstream::with_domain(leaf.clone(), format!("edge-{SITE}"))
}

async fn local_summaries(leaf: &async_nats::Client) -> Vec<WindowSummary> {
    stream_messages(&local_js(leaf), streams::LOCAL_SUMMARIES)
        .await
        .iter()
        .map(|(_, payload)| serde_json::from_slice(payload).unwrap())
        .collect()
}

/// Waits until the site holds exactly `expected` summaries (fails if it holds more).
async fn wait_for_local_summaries(leaf: &async_nats::Client, expected: usize) {
    wait_until(
        &format!("{expected} summaries at the site"),
        Duration::from_secs(90),
        || async {
            let mut stream = local_js(leaf)
                .get_stream(streams::LOCAL_SUMMARIES)
                .await
                .map_err(|e| e.to_string())?;
            let n = stream
                .info()
                .await
                .map_err(|e| e.to_string())?
                .state
                .messages as usize;
            assert!(
                n <= expected,
                "{n} summaries at the site, expected {expected}"
            );
            check(n == expected, format!("{n} summaries"))
        },
    )
    .await;
}

/// The summaries inside the hub's packs, each with its pack's message id, in order.
async fn hub_summaries(stack: &TestStack) -> Vec<(WindowSummary, String)> {
    let mut out = Vec::new();
    for (subject, payload, id) in stack.hub_messages_with_ids(streams::HUB_SUMMARIES).await {
        assert_eq!(
            subject,
            format!("edgeops.summaries.{SITE}"),
            "packed per site"
        );
        // The harness names the stream sequence after the id.
        let id = id.split(" (").next().unwrap_or_default().to_owned();
        let text = edgeops_contracts::compression::decompressed(&payload, 1 << 20).unwrap();
        let pack: Vec<WindowSummary> = serde_json::from_slice(&text).unwrap();
        out.extend(pack.into_iter().map(|summary| (summary, id.clone())));
    }
    out
}

/// The hub's summaries with their packs' message ids, once it holds `expected` (fails on more).
async fn wait_for_hub_summaries(
    stack: &TestStack,
    expected: usize,
) -> Vec<(WindowSummary, String)> {
    wait_until(
        &format!("{expected} summaries on the hub"),
        Duration::from_secs(90),
        || async {
            let n = hub_summaries(stack).await.len();
            assert!(
                n <= expected,
                "{n} summaries on the hub, expected {expected}"
            );
            check(n == expected, format!("{n} summaries"))
        },
    )
    .await;
    hub_summaries(stack).await
}

/// The device's CO2 samples as the hub holds them (forward-all: every reading).
async fn hub_samples(stack: &TestStack) -> Vec<(DateTime<Utc>, f64)> {
    let mut samples = BTreeMap::new();
    for (_, payload) in stack.hub_messages(streams::HUB_READINGS).await {
        let text = edgeops_contracts::compression::decompressed(&payload, 1 << 20).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&text).unwrap();
        let readings = match value {
            serde_json::Value::Array(items) => items,
            one => vec![one],
        };
        for reading in readings {
            let ts: DateTime<Utc> = reading["ts"].as_str().unwrap().parse().unwrap();
            samples.insert(ts, reading["metrics"]["co2_ppm"].as_f64().unwrap());
        }
    }
    samples.into_iter().collect()
}

/// The forecasts of `forecasts` with a target in `summary`'s window, the last made per origin.
fn in_window(forecasts: &[Forecast], summary: &WindowSummary) -> Vec<edgeops_evaluation::Forecast> {
    let mut by_origin = BTreeMap::new();
    for f in forecasts.iter().filter(|f| {
        f.kind == ForecastKind::Model
            && f.valid_at >= summary.window_start
            && f.valid_at < summary.window_end()
    }) {
        by_origin.insert(f.ts, (f.valid_at, f.value));
    }
    by_origin
        .into_iter()
        .map(|(origin, (target, value))| edgeops_evaluation::Forecast {
            origin,
            target,
            value,
        })
        .collect()
}

fn sums(
    samples: &[(DateTime<Utc>, f64)],
    forecasts: &[edgeops_evaluation::Forecast],
) -> PairedErrorSums {
    let pairing = pair_device(&spec(), samples, forecasts);
    let mut sums = PairedErrorSums {
        judged: pairing.pairs.len() as u64,
        unusable: pairing.unusable + pairing.pending,
        ..PairedErrorSums::default()
    };
    for pair in &pairing.pairs {
        let (c, b) = (pair.candidate_sq(), pair.baseline_sq());
        sums.sum_c += c;
        sums.sum_b += b;
        sums.sum_d_sq += (c - b).powi(2);
    }
    sums
}

fn close(a: f64, b: f64, relative: f64) -> bool {
    (a - b).abs() <= relative * a.abs().max(b.abs()).max(1e-9)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summaries_made_offline_reach_the_hub_once_agree_with_the_full_data_and_survive_a_restart()
{
    let stack = TestStack::start(&[SITE]).await;
    stack.register_sites(&[SITE]).await;
    let cache = tempfile::tempdir().unwrap();
    let config = gateway_config(&stack, cache.path());
    assert_eq!(config.policy, "forward-all");
    let (gateway, stats, inference) = spawn_gateway_observed(config.clone());
    let leaf = stack.leaf_client(SITE).await;
    wait_for_local_stream(&leaf, SITE).await;
    wait_until_feeding(&inference).await;
    let v1 = publish_model(&stack, 1).await;
    put_desired(&stack, &v1).await;
    wait_for_event(&stack, "edge.model_applied", 1).await;

    // Offline: four and a half hours of readings. Windows 0–3 are due (window 3 ends at
    // minute 240 and settles 20 minutes later), window 4 is not.
    stack.cut_uplink(SITE);
    for m in 0..=270 {
        publish_reading(&leaf, m).await;
    }
    wait_for_local_summaries(&leaf, 4).await;
    let at_site = local_summaries(&leaf).await;
    let starts: Vec<DateTime<Utc>> = at_site.iter().map(|s| s.window_start).collect();
    assert_eq!(starts, (0..4).map(|h| minute(h * 60)).collect::<Vec<_>>());
    assert!(hub_summaries(&stack).await.is_empty(), "the link is cut");

    stack.restore_uplink(SITE);
    let on_hub = wait_for_hub_summaries(&stack, 4).await;
    let windows: BTreeSet<String> = on_hub.iter().map(|(s, _)| s.message_id()).collect();
    assert_eq!(windows.len(), 4, "once each");
    let packs: BTreeSet<&String> = on_hub.iter().map(|(_, id)| id).collect();
    assert!(
        packs
            .iter()
            .all(|id| id.starts_with(&format!("{SITE}:summaries:"))),
        "{packs:?}"
    );
    for ((summary, _), made) in on_hub.iter().zip(&at_site) {
        assert_eq!(summary, made);
    }
    assert!(stats.summaries_forwarded.load(Ordering::Relaxed) >= 4);

    // The edge's figures equal a computation from the full data at the hub.
    wait_until(
        "every reading on the hub",
        Duration::from_secs(60),
        || async {
            let n = hub_samples(&stack).await.len();
            check(n == 271, format!("{n} of 271 readings"))
        },
    )
    .await;
    let samples = hub_samples(&stack).await;
    let made: Vec<Forecast> = stream_messages(&local_js(&leaf), streams::LOCAL_FORECASTS)
        .await
        .iter()
        .map(|(_, payload)| serde_json::from_slice(payload).unwrap())
        .collect();
    // The forecasts are the site's own (`FORECASTS_LOCAL`): the hub's are best effort and
    // none were made while the link was cut, which is why the summaries carry the error.
    let mut judged = 0;
    for summary in &at_site {
        assert_eq!(summary.readings, 60, "{}", summary.window_start);
        assert!(summary.stuck_metrics.is_empty());
        let expected = sums(&samples, &in_window(&made, summary));
        let models: Vec<_> = summary.models.iter().filter(|m| m.version == 1).collect();
        if expected.judged == 0 && expected.unusable == 0 {
            assert!(models.is_empty(), "{summary:?}");
            continue;
        }
        let error = &models[0].error;
        assert_eq!(
            (error.judged, error.unusable),
            (expected.judged, expected.unusable)
        );
        for (edge, hub) in [
            (error.sum_c, expected.sum_c),
            (error.sum_b, expected.sum_b),
            (error.sum_d_sq, expected.sum_d_sq),
        ] {
            assert!(
                close(edge, hub, 1e-9),
                "{edge} at the edge, {hub} from the full data"
            );
        }
        judged += error.judged;
    }
    assert!(
        judged >= 20,
        "the model's forecasts were judged in at least two windows: {judged}"
    );

    // A restarted gateway rebuilds its open windows and emits only the new one.
    gateway.shutdown().await;
    let (gateway, stats, inference) = spawn_gateway_observed(config);
    wait_until_feeding(&inference).await;
    for m in 271..=330 {
        publish_reading(&leaf, m).await;
    }
    wait_for_local_summaries(&leaf, 5).await;
    let on_hub = wait_for_hub_summaries(&stack, 5).await;
    assert_eq!(on_hub[4].0.window_start, minute(240));
    assert_eq!(
        on_hub[4].0.readings, 60,
        "the window open at the restart, whole"
    );
    assert_eq!(stats.summaries_stored.load(Ordering::Relaxed), 1);
    assert_eq!(
        stats.summaries_duplicate.load(Ordering::Relaxed),
        0,
        "no window emitted twice"
    );
    gateway.shutdown().await;
}
