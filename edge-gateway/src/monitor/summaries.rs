//! The site's summaries in the making: every device's open windows, the site and forecast
//! clocks, and what was emitted. Pure: the summarizer feeds it raw readings and forecasts in
//! local stream order and publishes what [`Summaries::take_due`] returns.
//!
//! **Memory bound.** Per device: the readings' counts and one run per metric for each open
//! window; the samples of forecast metrics from `margin_secs` before the earliest open window
//! to the site clock; one forecast (with its feature row) per model version and origin bin
//! whose target is in an open window. Open windows are those ending after the emitted
//! watermark, and the watermark trails the site clock by at most the rule's `settle_secs` plus
//! how far readings are read ahead of forecasts ([`MAX_AHEAD_OF_FORECASTS`], 2 h), so a device
//! holds at most `(settle + 2 h) / 1 h + 2` windows and about `margin + settle + 3 h` of
//! samples of its forecast metrics (indoor air, 5-minute bins, horizon 12: about 11 h).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use edgeops_contracts::deployment::{Forecast, ForecastKind};
use edgeops_contracts::monitoring::{WINDOW_SECS, WindowSummary};
use edgeops_contracts::{DeviceId, Reading, SiteId};
use serde::{Deserialize, Serialize};

use super::device::{DeviceState, KeptForecast, ModelInfo};
use super::window::{EmissionRule, at, window_of};

/// Where a restarted summarizer resumes, saved after each emission: re-reading both local
/// streams after these sequences, with the clocks and the watermark as saved, rebuilds every
/// open window exactly (every raw reading and forecast an open window holds or needs is after
/// them; everything before them is of emitted windows or too old to matter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Checkpoint {
    pub raw_after: u64,
    pub forecasts_after: u64,
    /// Every window ending at or before this (unix seconds) was emitted.
    pub emitted_through: Option<i64>,
    pub site_clock: Option<i64>,
    pub forecast_clock: Option<i64>,
    /// The widest sample margin used so far (a restart keeps at least as much).
    pub margin_secs: i64,
}

/// How far readings may be read ahead of forecasts (seconds of site time) while forecasts
/// still come.
pub const MAX_AHEAD_OF_FORECASTS: i64 = 2 * 3_600;

pub struct Summaries {
    site: SiteId,
    rule: EmissionRule,
    margin_secs: i64,
    /// Metrics forecasts are made of: their samples are kept.
    targets: BTreeSet<String>,
    devices: BTreeMap<DeviceId, DeviceState>,
    site_clock: Option<i64>,
    forecast_clock: Option<i64>,
    emitted_through: Option<i64>,
    last_raw: u64,
    last_forecast: u64,
}

impl Summaries {
    pub fn resume(
        site: SiteId,
        rule: EmissionRule,
        margin_secs: i64,
        targets: BTreeSet<String>,
        from: Checkpoint,
    ) -> Self {
        Self {
            site,
            rule,
            margin_secs: margin_secs.max(from.margin_secs),
            targets,
            devices: BTreeMap::new(),
            site_clock: from.site_clock,
            forecast_clock: from.forecast_clock,
            emitted_through: from.emitted_through,
            last_raw: from.raw_after,
            last_forecast: from.forecasts_after,
        }
    }

    /// A model version the gateway serves: its target's samples are kept from now on, far
    /// enough back for its horizon.
    pub fn learn(&mut self, target: &str, margin_secs: i64, settle_secs: i64) {
        self.targets.insert(target.to_owned());
        self.margin_secs = self.margin_secs.max(margin_secs);
        self.rule.settle_secs = self.rule.settle_secs.max(settle_secs);
    }

    /// How far (seconds of site time) the raw readings read are ahead of the forecasts read:
    /// the summarizer stops reading readings past [`MAX_AHEAD_OF_FORECASTS`] until the
    /// forecasts catch up, which bounds the open windows while a backlog is replayed.
    pub fn ahead_of_forecasts(&self) -> i64 {
        match (self.site_clock, self.forecast_clock) {
            (Some(site), Some(forecasts)) => site.saturating_sub(forecasts),
            (Some(_), None) => i64::MAX,
            _ => 0,
        }
    }

    /// The start of the earliest open window (the one holding the watermark).
    fn open_from(&self) -> i64 {
        self.emitted_through
            .map_or(i64::MIN, |t| window_of(t, self.rule.window_secs))
    }

    fn keep_from(&self) -> i64 {
        self.open_from().saturating_sub(self.margin_secs)
    }

    /// A raw message that is no reading (the reduction stage sets it aside), read at `sequence`.
    pub fn observe_reading_sequence(&mut self, sequence: u64) {
        self.last_raw = self.last_raw.max(sequence);
    }

    /// A message on the forecast subjects that is no forecast, read at `sequence`.
    pub fn observe_forecast_sequence(&mut self, sequence: u64) {
        self.last_forecast = self.last_forecast.max(sequence);
    }

    /// A raw reading of this site, read at local `sequence`.
    pub fn observe_reading(&mut self, sequence: u64, reading: &Reading) {
        self.last_raw = self.last_raw.max(sequence);
        if reading.site != self.site {
            return;
        }
        let ts = reading.ts.timestamp();
        self.site_clock = Some(self.site_clock.map_or(ts, |c| c.max(ts)));
        let bounds = (self.open_from(), self.keep_from());
        self.devices
            .entry(reading.device.clone())
            .or_insert_with(|| DeviceState::new(self.rule.window_secs))
            .observe_reading(sequence, reading, &self.targets, bounds);
    }

    /// A forecast of this site, read at local `sequence`; `model` is what the gateway knows of
    /// its model version. Persistence moves the forecast clock only: it is not a model version.
    pub fn observe_forecast(
        &mut self,
        sequence: u64,
        forecast: &Forecast,
        model: Option<Arc<ModelInfo>>,
    ) {
        self.last_forecast = self.last_forecast.max(sequence);
        if forecast.site != self.site {
            return;
        }
        let origin = forecast.ts.timestamp();
        self.forecast_clock = Some(self.forecast_clock.map_or(origin, |c| c.max(origin)));
        let (ForecastKind::Model, Some(name), Some(version)) =
            (forecast.kind, &forecast.model, forecast.version)
        else {
            return;
        };
        let kept = KeptForecast {
            target: forecast.valid_at.timestamp(),
            value: forecast.value,
            row: forecast.features.clone(),
            sequence,
        };
        let open_from = self.open_from();
        self.devices
            .entry(forecast.device.clone())
            .or_insert_with(|| DeviceState::new(self.rule.window_secs))
            .observe_forecast(
                (name.clone(), version),
                model,
                (&forecast.metric, forecast.horizon_bins),
                origin,
                kept,
                open_from,
            );
    }

    /// The windows now due, in order of their end and then device (so a restart can tell
    /// exactly which were stored: every key up to the last one stored), each once.
    pub fn take_due(&mut self, forecasts_caught_up: bool) -> Vec<WindowSummary> {
        let Some(watermark) =
            self.rule
                .watermark(self.site_clock, self.forecast_clock, forecasts_caught_up)
        else {
            return Vec::new();
        };
        if self.emitted_through.is_some_and(|done| watermark <= done) {
            return Vec::new();
        }
        let open_from = self.open_from();
        let mut due: Vec<(i64, DeviceId)> = Vec::new();
        for (device, state) in &self.devices {
            for start in state.windows() {
                if start >= open_from && start + self.rule.window_secs <= watermark {
                    due.push((start, device.clone()));
                }
            }
        }
        due.sort();
        let summaries = due
            .into_iter()
            .filter_map(|(start, device)| self.summary(&device, start))
            .collect();
        self.emitted_through = Some(watermark);
        let (open_from, keep_from) = (self.open_from(), self.keep_from());
        for state in self.devices.values_mut() {
            state.prune(open_from, keep_from);
        }
        self.devices.retain(|_, state| !state.is_empty());
        summaries
    }

    fn summary(&self, device: &DeviceId, start: i64) -> Option<WindowSummary> {
        let figures = self.devices.get(device)?.figures(start);
        if figures.readings == 0 && figures.models.is_empty() && figures.features.is_empty() {
            return None;
        }
        Some(WindowSummary {
            site: self.site.clone(),
            device: device.clone(),
            window_start: at(start),
            window_secs: u32::try_from(self.rule.window_secs).unwrap_or(WINDOW_SECS),
            readings: figures.readings,
            last_reading_at: figures.last_reading_at.map(at),
            stuck_metrics: figures.stuck_metrics,
            models: figures.models,
            features: figures.features,
            features_of: figures.features_of,
        })
    }

    /// Where to resume after a restart, as of now (see [`Checkpoint`]).
    pub fn checkpoint(&self) -> Checkpoint {
        let (mut raw, mut forecasts) = (None::<u64>, None::<u64>);
        for state in self.devices.values() {
            let (r, f) = state.earliest_sequences();
            raw = earliest(raw, r);
            forecasts = earliest(forecasts, f);
        }
        Checkpoint {
            raw_after: raw.map_or(self.last_raw, |first| first.saturating_sub(1)),
            forecasts_after: forecasts.map_or(self.last_forecast, |first| first.saturating_sub(1)),
            emitted_through: self.emitted_through,
            site_clock: self.site_clock,
            forecast_clock: self.forecast_clock,
            margin_secs: self.margin_secs,
        }
    }

    /// The order summaries are emitted in (see [`Summaries::take_due`]).
    pub fn order_key(summary: &WindowSummary) -> (i64, DeviceId) {
        (summary.window_start.timestamp(), summary.device.clone())
    }
}

fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}
