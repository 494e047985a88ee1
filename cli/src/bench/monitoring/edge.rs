//! The gateway's summarizer, measured in memory: its pure core
//! ([`edgeops_edge_gateway::monitor::Summaries`], what `Summarizer` feeds from the local
//! streams) over a backlog of decoded readings and forecasts, beside a plain pass over the same
//! values and beside decoding the same messages from their JSON payloads (what any consumer of
//! the local streams pays). NATS is left out: the local consume is the data path's own figure.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use edgeops_contracts::deployment::{Forecast, ForecastKind};
use edgeops_contracts::monitoring::FeatureReference;
use edgeops_contracts::{DeviceId, Reading, ReadingLimits, SiteId, subjects};
use edgeops_edge_gateway::monitor::device::ModelInfo;
use edgeops_edge_gateway::monitor::window::{EmissionRule, margin_secs, settle_secs};
use edgeops_edge_gateway::monitor::{Checkpoint, Summaries};
use edgeops_features::FeatureSpec;

use super::{BINS_PER_WINDOW, MODEL, at};

/// One local message of the backlog, decoded, in local stream order.
enum Message {
    Reading(Reading),
    Forecast(Forecast),
}

pub struct Backlog {
    site: SiteId,
    messages: Vec<Message>,
    /// The same messages as they lie in the local streams: subject and JSON payload.
    payloads: Vec<(String, Vec<u8>)>,
    info: Arc<ModelInfo>,
}

impl Backlog {
    pub fn messages(&self) -> u64 {
        self.messages.len() as u64
    }
}

/// What one pass of the summarizer produced.
pub struct Pass {
    pub seconds: f64,
    pub summaries: u64,
    pub judged: u64,
    /// How much the process's resident memory grew while the summarizer held the devices'
    /// open windows (the allocator keeps what it was given, so this is about its peak state).
    pub state_mb: f64,
}

/// `devices` rooms' readings (one a minute: CO₂ and temperature) and model forecasts (one per
/// 5-minute bin, 12 bins ahead, with its feature row), `hours` long, in the order the gateway
/// stores them: each minute's readings, and the forecasts of a bin as it closes.
pub fn backlog(site: &SiteId, devices: usize, hours: u32) -> anyhow::Result<Backlog> {
    let spec = FeatureSpec::indoor_air();
    let inputs = spec.names();
    let info = Arc::new(ModelInfo {
        model: MODEL.into(),
        version: 1,
        spec: spec.clone(),
        horizon_bins: BINS_PER_WINDOW,
        reference: inputs.iter().map(|name| reference(name)).collect(),
    });
    let ids: Vec<DeviceId> = (0..devices)
        .map(|d| DeviceId::parse(format!("room-{d:04}")))
        .collect::<Result<_, _>>()?;
    let t0 = super::start_of_data(0);
    let mut messages = Vec::new();
    for minute in 0..i64::from(hours) * 60 {
        let ts = t0 + minute * 60;
        for (d, device) in ids.iter().enumerate() {
            let co2 = co2(d, minute);
            messages.push(Message::Reading(Reading {
                site: site.clone(),
                device: device.clone(),
                ts: at(ts),
                metrics: [
                    ("co2_ppm".to_owned(), co2),
                    (
                        "temperature_c".to_owned(),
                        21.0 + (minute % 50) as f64 / 25.0,
                    ),
                ]
                .into(),
            }));
        }
        if minute % 5 == 4 {
            let origin = ts - 4 * 60;
            for (d, device) in ids.iter().enumerate() {
                let row: Vec<f32> = (0..inputs.len())
                    .map(|i| (co2(d, minute) / 100.0) as f32 + i as f32)
                    .collect();
                messages.push(Message::Forecast(Forecast {
                    ts: at(origin),
                    valid_at: at(origin + i64::from(BINS_PER_WINDOW) * 300),
                    site: site.clone(),
                    device: device.clone(),
                    metric: spec.target.clone(),
                    model: Some(MODEL.into()),
                    version: Some(1),
                    horizon_bins: BINS_PER_WINDOW,
                    value: co2(d, minute) + 5.0,
                    kind: ForecastKind::Model,
                    features: Some(row),
                }));
            }
        }
    }
    let payloads = messages
        .iter()
        .map(|message| match message {
            Message::Reading(r) => {
                let subject = subjects::raw_reading(site, &r.device);
                let payload = serde_json::json!({
                    "ts": r.ts.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "metrics": r.metrics,
                });
                Ok((subject, serde_json::to_vec(&payload)?))
            }
            Message::Forecast(f) => Ok((String::new(), serde_json::to_vec(f)?)),
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Backlog {
        site: site.clone(),
        messages,
        payloads,
        info,
    })
}

fn co2(device: usize, minute: i64) -> f64 {
    600.0 + 80.0 * ((minute as f64 + device as f64 * 7.0) / 37.0).sin() + (minute % 7) as f64
}

/// A training reference for one input: deciles of a spread the rows above mostly fall in.
fn reference(name: &str) -> FeatureReference {
    FeatureReference {
        name: name.to_owned(),
        edges: (1..10).map(|i| f64::from(i) * 1.5).collect(),
        shares: vec![0.1; 10],
        min: 0.0,
        max: 60.0,
        mean: 7.5,
        std: 4.0,
        rows: 10_000,
    }
}

/// The summarizer's core over the backlog: every message in order, due windows taken after
/// each bin's forecasts (as the summarizer does after each read).
pub fn summarize(backlog: &Backlog) -> Pass {
    let spec = &backlog.info.spec;
    let rule = EmissionRule {
        settle_secs: settle_secs(spec),
        wait_for_forecasts: true,
        window_secs: i64::from(edgeops_contracts::monitoring::WINDOW_SECS),
    };
    let margin = margin_secs(spec, BINS_PER_WINDOW);
    let rss_before = super::rss_mb();
    let started = Instant::now();
    let mut summaries = Summaries::resume(
        backlog.site.clone(),
        rule,
        margin,
        [spec.target.clone()].into(),
        Checkpoint::default(),
    );
    let (mut count, mut judged) = (0u64, 0u64);
    let mut take = |summaries: &mut Summaries, caught_up| {
        for summary in summaries.take_due(caught_up) {
            count += 1;
            judged += summary.models.iter().map(|m| m.error.judged).sum::<u64>();
            black_box(summary);
        }
    };
    let mut after_forecast = false;
    for (sequence, message) in backlog.messages.iter().enumerate() {
        let sequence = sequence as u64 + 1;
        match message {
            Message::Reading(reading) => {
                if after_forecast {
                    take(&mut summaries, false);
                    after_forecast = false;
                }
                summaries.observe_reading(sequence, reading);
            }
            Message::Forecast(forecast) => {
                summaries.observe_forecast(sequence, forecast, Some(backlog.info.clone()));
                after_forecast = true;
            }
        }
    }
    let state_mb = super::rss_mb() - rss_before;
    take(&mut summaries, true);
    Pass {
        seconds: started.elapsed().as_secs_f64(),
        summaries: count,
        judged,
        state_mb,
    }
}

/// The baseline: every message read once, its values touched, nothing kept.
pub fn plain_pass(backlog: &Backlog) -> f64 {
    let started = Instant::now();
    let mut total = 0.0;
    for message in &backlog.messages {
        total += match message {
            Message::Reading(r) => r.metrics.values().sum::<f64>() + r.ts.timestamp() as f64,
            Message::Forecast(f) => f.value + f.ts.timestamp() as f64,
        };
    }
    black_box(total);
    started.elapsed().as_secs_f64()
}

/// The second baseline: every message decoded from its payload, as a consumer of the local
/// streams must (the summarizer does this too, before the work timed in [`summarize`]).
pub fn decode_pass(backlog: &Backlog) -> anyhow::Result<f64> {
    let limits = ReadingLimits::default();
    let now: DateTime<Utc> = Utc::now();
    let started = Instant::now();
    for (subject, payload) in &backlog.payloads {
        if subject.is_empty() {
            let forecast: Forecast = serde_json::from_slice(payload)?;
            black_box(forecast);
        } else {
            let reading = Reading::from_message(subject, payload, now, &limits)
                .map_err(|r| anyhow::anyhow!("{r}"))?;
            black_box(reading);
        }
    }
    Ok(started.elapsed().as_secs_f64())
}
