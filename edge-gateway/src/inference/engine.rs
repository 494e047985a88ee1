//! From readings to forecasts, per device: the reading joins the device's window, the feature
//! row of the newest bin is computed with the shared feature code (the spec from the model's own
//! metadata), and the device's current model predicts from it. Without a model, or before the
//! window holds enough history for a row, the forecast is persistence (the target's latest
//! value), marked as such: a consumer can always tell a model's forecast from the baseline.
//!
//! Synchronous and free of I/O apart from the model call, so tests drive it directly.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use edgeops_contracts::deployment::{Forecast, ForecastKind};
use edgeops_contracts::{DeviceId, Reading, SiteId};
use edgeops_features::resample::{bin_of, bin_time};
use edgeops_features::{FeatureSpec, compute_rows};

use super::active::ActiveModel;
use super::table::ModelTable;
use super::window::Window;

/// What a device's forecast was based on; logged once per model, not per reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Basis {
    Model,
    NoModel,
    NotEnoughHistory,
    ModelFailed,
}

#[derive(Default)]
struct DeviceState {
    window: Window,
    /// The model (name, version) the announcements below were made for.
    announced_for: Option<(String, u32)>,
    /// Bases already logged for that model: each is logged once per model, so a device whose
    /// newest bin alternates between "row" and "no row" does not log on every reading.
    announced: Vec<Basis>,
}

impl DeviceState {
    /// Whether `basis` is news for this device and model (and remembers it).
    fn news(&mut self, basis: Basis, model: Option<&ActiveModel>) -> bool {
        let identity = model.map(|m| (m.desired.model.clone(), m.desired.version));
        if self.announced_for != identity {
            self.announced_for = identity;
            self.announced.clear();
        }
        if self.announced.contains(&basis) {
            return false;
        }
        self.announced.push(basis);
        true
    }
}

pub struct Engine {
    site: SiteId,
    /// The spec whose target persistence forecasts before any model is loaded.
    default_spec: FeatureSpec,
    persistence_horizon_bins: u32,
    table: Arc<ModelTable>,
    devices: HashMap<DeviceId, DeviceState>,
}

impl Engine {
    pub fn new(
        site: SiteId,
        default_spec: FeatureSpec,
        persistence_horizon_bins: u32,
        table: Arc<ModelTable>,
    ) -> Self {
        Self {
            site,
            default_spec,
            persistence_horizon_bins,
            table,
            devices: HashMap::new(),
        }
    }

    /// How far back readings must be replayed after a restart to fill every window: the
    /// default spec's margin, or a loaded model's if longer.
    pub fn history_needed(&self) -> Duration {
        let mut specs = vec![self.default_spec.clone()];
        for device in self.table.devices() {
            let slots = self.table.slots(&device);
            specs.extend(
                [slots.current, slots.previous]
                    .into_iter()
                    .flatten()
                    .map(|m| m.spec.clone()),
            );
        }
        specs
            .iter()
            .map(|s| {
                let bins = i64::try_from(s.load_margin_bins() + 1).unwrap_or(i64::MAX / 2);
                Duration::seconds(s.interval_secs.saturating_mul(bins))
            })
            .max()
            .unwrap_or_default()
    }

    /// Adds `reading` to its device's window without forecasting (replay after a restart:
    /// those forecasts were made before it).
    pub fn remember(&mut self, reading: &Reading) {
        let active = self.table.current(&reading.device);
        let spec = active.as_ref().map_or(&self.default_spec, |m| &m.spec);
        let state = self.devices.entry(reading.device.clone()).or_default();
        state.window.push(reading.ts, &reading.metrics);
        state.window.prune([spec, &self.default_spec]);
    }

    /// Adds `reading` to its device's window and forecasts from the newest bin any input of the
    /// spec reported in. `None` only when the device has never reported the target metric
    /// (nothing to forecast from).
    pub fn observe(&mut self, reading: &Reading) -> Option<Forecast> {
        let active = self.table.current(&reading.device);
        let state = self.devices.entry(reading.device.clone()).or_default();
        state.window.push(reading.ts, &reading.metrics);
        let spec = active.as_ref().map_or(&self.default_spec, |m| &m.spec);
        state.window.prune([spec, &self.default_spec]);
        let (_, latest_value) = state.window.latest(&spec.target)?;
        let newest = state.window.newest_of(&spec.metrics)?;
        let origin = bin_of(newest, spec.interval_secs);
        let horizon = active
            .as_ref()
            .map_or(self.persistence_horizon_bins, |m| m.horizon_bins());
        let persistence = |basis| (spec, origin, latest_value, horizon, basis);
        let (outcome, basis) = match &active {
            Some(model) => match predict(model, &state.window, newest) {
                Ok((value, features)) => {
                    let mut forecast = self.forecast(reading, model_forecast(model, origin, value));
                    forecast.features = Some(features);
                    (forecast, Basis::Model)
                }
                Err(basis) => self.persistence(reading, persistence(basis)),
            },
            None => self.persistence(reading, persistence(Basis::NoModel)),
        };
        let state = self.devices.entry(reading.device.clone()).or_default();
        if state.news(basis, active.as_deref()) {
            log_basis(&self.site, &reading.device, basis, active.as_deref());
        }
        Some(outcome)
    }

    /// The target's latest value, at the horizon the model would have forecast.
    fn persistence(
        &self,
        reading: &Reading,
        (spec, origin, value, horizon, basis): (&FeatureSpec, i64, f64, u32, Basis),
    ) -> (Forecast, Basis) {
        let parts = Parts {
            origin,
            interval_secs: spec.interval_secs,
            metric: spec.target.clone(),
            model: None,
            version: None,
            horizon_bins: horizon,
            value,
            kind: ForecastKind::Persistence,
        };
        (self.forecast(reading, parts), basis)
    }

    fn forecast(&self, reading: &Reading, parts: Parts) -> Forecast {
        let horizon = i64::from(parts.horizon_bins).saturating_mul(parts.interval_secs);
        Forecast {
            ts: bin_time(parts.origin),
            valid_at: bin_time(parts.origin.saturating_add(horizon)),
            site: self.site.clone(),
            device: reading.device.clone(),
            metric: parts.metric,
            model: parts.model,
            version: parts.version,
            horizon_bins: parts.horizon_bins,
            value: parts.value,
            kind: parts.kind,
            features: None,
        }
    }
}

/// A forecast's fields apart from its identity.
struct Parts {
    origin: i64,
    interval_secs: i64,
    metric: String,
    model: Option<String>,
    version: Option<u32>,
    horizon_bins: u32,
    value: f64,
    kind: ForecastKind,
}

fn model_forecast(model: &ActiveModel, origin: i64, value: f32) -> Parts {
    Parts {
        origin,
        interval_secs: model.spec.interval_secs,
        metric: model.spec.target.clone(),
        model: Some(model.desired.model.clone()),
        version: Some(model.desired.version),
        horizon_bins: model.horizon_bins(),
        value: f64::from(value),
        kind: ForecastKind::Model,
    }
}

/// The model's forecast from the row of `latest`'s bin, with that row as f32 (what training
/// fed).
fn predict(
    model: &ActiveModel,
    window: &Window,
    latest: DateTime<Utc>,
) -> Result<(f32, Vec<f32>), Basis> {
    let origin = bin_of(latest, model.spec.interval_secs);
    let series = window
        .series_for(&model.spec, latest)
        .ok_or(Basis::NotEnoughHistory)?;
    let row = compute_rows(&model.spec, &series, Some(origin))
        .into_iter()
        .find(|row| row.ts == bin_time(origin))
        .ok_or(Basis::NotEnoughHistory)?;
    let features: Vec<f32> = row.values.iter().map(|v| *v as f32).collect();
    match model.model.predict_one(&features) {
        Ok(value) if value.is_finite() => Ok((value, features)),
        Ok(value) => {
            tracing::warn!(model = %model.desired.model, version = model.desired.version, value, "model forecast is not finite; serving persistence");
            Err(Basis::ModelFailed)
        }
        Err(err) => {
            tracing::warn!(model = %model.desired.model, version = model.desired.version, error = %err, "model failed; serving persistence");
            Err(Basis::ModelFailed)
        }
    }
}

fn log_basis(site: &SiteId, device: &DeviceId, basis: Basis, model: Option<&ActiveModel>) {
    let model_name = model.map(|m| m.desired.model.as_str());
    let version = model.map(|m| m.desired.version);
    match basis {
        Basis::Model => {
            tracing::info!(%site, %device, model = model_name, version, "forecasting with the model")
        }
        Basis::NoModel => {
            tracing::info!(%site, %device, "no model loaded: forecasting persistence")
        }
        Basis::NotEnoughHistory => tracing::info!(
            %site, %device, model = model_name, version,
            "not enough history for the model's feature row yet: forecasting persistence"
        ),
        Basis::ModelFailed => tracing::warn!(
            %site, %device, model = model_name, version,
            "the model failed on this row: forecasting persistence"
        ),
    }
}
