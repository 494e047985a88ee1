//! The hub side: the monitoring service (in-process, as shipped) draining a backlog of window
//! summaries from the hub's `SUMMARIES` stream, beside a raw ordered consume of the same
//! messages on the same server in the same run.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use async_nats::jetstream::{self, stream::Stream};
use edgeops_bus::topology::MONITORING_SUMMARIES_CONSUMER;
use edgeops_contracts::manifest::{ArtifactRef, FeatureSpecRef, Lineage, Manifest, SignedManifest};
use edgeops_contracts::monitoring::{
    FeatureReference, FeatureWindow, ModelVersionRef, ModelWindow, PairedErrorSums, WINDOW_SECS,
    WindowSummary,
};
use edgeops_contracts::{DeviceId, SiteId, streams, subjects};
use edgeops_monitoring::MonitoringConfig;
use futures::StreamExt;
use futures::future::join_all;
use tokio_util::sync::CancellationToken;

use super::{BINS_PER_WINDOW, FEATURES, MODEL, at};

/// Outstanding publishes before waiting for their acknowledgements.
const PUBLISH_WINDOW: usize = 2_000;

/// One run's summaries: `hours` of windows for each of `devices`, in the order gateways send
/// them (window, then device). Each carries one model version's paired error over 12 judged
/// forecasts and, with `features`, the serving model's 8 inputs on the training reference.
pub fn summaries(
    site: &SiteId,
    run: u32,
    devices: usize,
    hours: u32,
    features: bool,
) -> anyhow::Result<Vec<WindowSummary>> {
    let ids: Vec<DeviceId> = (0..devices)
        .map(|d| DeviceId::parse(format!("room-{d:04}")))
        .collect::<Result<_, _>>()?;
    let t0 = super::start_of_data(run);
    let mut out = Vec::with_capacity(devices * hours as usize);
    for hour in 0..i64::from(hours) {
        let start = t0 + hour * i64::from(WINDOW_SECS);
        for (d, device) in ids.iter().enumerate() {
            // A healthy model: its squared error a little under persistence's, varying.
            let wobble = ((hour as f64 + d as f64) / 5.0).sin();
            let n = f64::from(BINS_PER_WINDOW);
            let (c, b) = (n * (300.0 + 40.0 * wobble), n * 400.0);
            out.push(WindowSummary {
                site: site.clone(),
                device: device.clone(),
                window_start: at(start),
                window_secs: WINDOW_SECS,
                readings: 60,
                last_reading_at: Some(at(start + 3_540)),
                stuck_metrics: Vec::new(),
                models: vec![ModelWindow {
                    model: MODEL.into(),
                    version: 1,
                    metric: "co2_ppm".into(),
                    horizon_bins: BINS_PER_WINDOW,
                    error: PairedErrorSums {
                        judged: u64::from(BINS_PER_WINDOW),
                        unusable: 0,
                        sum_c: c,
                        sum_b: b,
                        sum_d_sq: (c - b).powi(2) / n + n * 900.0,
                    },
                }],
                features: if features {
                    feature_windows(hour as usize + d)
                } else {
                    Vec::new()
                },
                features_of: features.then(|| ModelVersionRef {
                    model: MODEL.into(),
                    version: 1,
                }),
            });
        }
    }
    Ok(out)
}

/// An hour's 12 rows of each input on its reference's 10 bins.
fn feature_windows(seed: usize) -> Vec<FeatureWindow> {
    (0..FEATURES)
        .map(|f| {
            let mut counts = vec![0u64; 10];
            for row in 0..BINS_PER_WINDOW as usize {
                counts[(seed + row + f) % 10] += 1;
            }
            FeatureWindow {
                name: format!("input_{f}"),
                counts,
                below_range: 0,
                above_range: 0,
                sum: 12.0 * 7.5,
                sum_sq: 12.0 * (7.5 * 7.5 + 16.0),
            }
        })
        .collect()
}

/// What the registry would sign for the benchmark's model: its 8 inputs' training reference.
/// Monitoring reads the manifest's reference and spec; it does not verify the signature.
fn manifest() -> SignedManifest {
    SignedManifest {
        manifest: Manifest {
            model: MODEL.into(),
            version: 1,
            artifact: ArtifactRef::of("co2-room/bench.onnx", b"bench"),
            feature_spec: FeatureSpecRef {
                name: "indoor_air".into(),
                version: 4,
                inputs: (0..FEATURES).map(|f| format!("input_{f}")).collect(),
            },
            horizon_bins: BINS_PER_WINDOW,
            metrics: BTreeMap::from([("rmse".to_owned(), 20.0)]),
            lineage: Lineage {
                training_run: uuid::Uuid::nil(),
                dataset_fingerprint: "ab".repeat(32),
                code_version: "bench".into(),
            },
            created_at: at(super::start_of_data(0)),
            reference: (0..FEATURES)
                .map(|f| FeatureReference {
                    name: format!("input_{f}"),
                    edges: (1..10).map(|i| f64::from(i) * 1.5).collect(),
                    shares: vec![0.1; 10],
                    min: 0.0,
                    max: 15.0,
                    mean: 7.5,
                    std: 4.0,
                    rows: 10_000,
                })
                .collect(),
        },
        key_id: "bench".into(),
        signature: String::new(),
    }
}

/// Answers the registry's manifest endpoint with [`manifest`] (no registry runs in the bench;
/// monitoring asks once per version and keeps the answer).
pub async fn serve_manifest(
    hub: async_nats::Client,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let subject = subjects::service_endpoint(
        edgeops_registry_api::SERVICE_NAME,
        edgeops_registry_api::endpoints::MANIFEST,
    );
    let mut requests = hub.subscribe(subject).await?;
    let reply = serde_json::to_vec(&manifest())?;
    loop {
        let request = tokio::select! {
            () = stop.cancelled() => return Ok(()),
            request = requests.next() => request,
        };
        let Some(request) = request else {
            return Ok(());
        };
        if let Some(to) = request.reply {
            hub.publish(to, reply.clone().into()).await?;
        }
    }
}

/// Publishes every summary to the hub stream, acknowledgements awaited; returns the stream
/// sequence of the first.
pub async fn publish(js: &jetstream::Context, all: &[WindowSummary]) -> anyhow::Result<u64> {
    let mut first = None;
    for window in all.chunks(PUBLISH_WINDOW) {
        let mut acks = Vec::with_capacity(window.len());
        for summary in window {
            let subject = subjects::hub_summary(&summary.site, &summary.device);
            let payload = serde_json::to_vec(summary)?;
            acks.push(js.publish(subject, payload.into()).await?);
        }
        for ack in join_all(acks.into_iter().map(std::future::IntoFuture::into_future)).await {
            let sequence = ack?.sequence;
            first = Some(first.map_or(sequence, |f: u64| f.min(sequence)));
        }
    }
    first.ok_or_else(|| anyhow::anyhow!("no summaries to publish"))
}

/// The baseline: an ordered consumer reads the `n` messages from `first` on, doing nothing.
pub async fn raw_consume(stream: &Stream, first: u64, n: u64) -> anyhow::Result<f64> {
    let started = Instant::now();
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            filter_subject: subjects::all_hub_summaries(),
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: first,
            },
            ..Default::default()
        })
        .await?;
    let mut messages = consumer.messages().await?;
    let mut read = 0u64;
    while read < n {
        match messages.next().await {
            Some(message) => {
                std::hint::black_box(message?.payload.len());
                read += 1;
            }
            None => anyhow::bail!("the ordered consumer ended after {read} of {n}"),
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Starts monitoring over the waiting backlog and times it from its first delivery until its
/// durable consumer has acknowledged everything. Monitoring's startup (connections,
/// migrations, the consumer's first fetch) is not counted.
pub async fn drain(
    stream: &Stream,
    hub_url: &str,
    database_url: &str,
    n: u64,
) -> anyhow::Result<f64> {
    let pending = |info: &jetstream::consumer::Info| info.num_pending + info.num_ack_pending as u64;
    let before = stream.consumer_info(MONITORING_SUMMARIES_CONSUMER).await?;
    anyhow::ensure!(
        pending(&before) == n,
        "monitoring's consumer holds {} messages, not the run's {n}",
        pending(&before)
    );
    let stop = CancellationToken::new();
    let service = tokio::spawn(edgeops_monitoring::run(
        MonitoringConfig::local(hub_url, database_url),
        stop.clone().cancelled_owned(),
    ));
    let deadline = Instant::now() + Duration::from_secs(1800);
    let mut started = None;
    let result = loop {
        let info = stream.consumer_info(MONITORING_SUMMARIES_CONSUMER).await?;
        if started.is_none() && info.delivered.stream_sequence > before.delivered.stream_sequence {
            started = Some(Instant::now());
        }
        if info.num_pending == 0 && info.num_ack_pending == 0 {
            break Ok(started.map_or(0.0, |s| s.elapsed().as_secs_f64()));
        }
        if service.is_finished() || Instant::now() > deadline {
            break Err(anyhow::anyhow!(
                "monitoring stopped or took over 30 minutes ({} left)",
                pending(&info)
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    stop.cancel();
    match service.await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => return Err(err.context("monitoring failed")),
        Err(err) => return Err(anyhow::anyhow!("monitoring panicked: {err}")),
    }
    result
}

/// The stream and the consumer's state the runs share.
pub async fn summaries_stream(js: &jetstream::Context) -> anyhow::Result<Stream> {
    Ok(js.get_stream(streams::HUB_SUMMARIES).await?)
}
