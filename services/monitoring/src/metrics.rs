//! Monitoring's OpenTelemetry instruments (names in `edgeops_telemetry::names`, documented in
//! docs/monitoring.md).

use edgeops_contracts::monitoring::{ModelWindow, WindowSummary};
use edgeops_telemetry::names;
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram};

use crate::domain::IncidentEvent;

#[derive(Clone)]
pub struct Metrics {
    summaries: Counter<u64>,
    judged: Counter<u64>,
    incidents: Counter<u64>,
    skill: Histogram<f64>,
}

impl Default for Metrics {
    fn default() -> Self {
        let meter = opentelemetry::global::meter("edgeops.monitoring");
        Self {
            summaries: meter.u64_counter(names::MONITORING_SUMMARIES).build(),
            judged: meter
                .u64_counter(names::MONITORING_JUDGED_FORECASTS)
                .build(),
            incidents: meter.u64_counter(names::MONITORING_INCIDENTS).build(),
            skill: meter
                .f64_histogram(names::MONITORING_WINDOW_SKILL)
                .with_boundaries(vec![-1.0, -0.5, -0.25, 0.0, 0.1, 0.25, 0.5, 0.75])
                .build(),
        }
    }
}

impl Metrics {
    pub fn summary(&self, outcome: &'static str) {
        self.summaries.add(1, &[KeyValue::new("outcome", outcome)]);
    }

    /// A newly stored summary's judged forecasts and window skills.
    pub fn stored(&self, summary: &WindowSummary) {
        for model in &summary.models {
            let labels = labels(model);
            self.judged.add(model.error.judged, &labels);
            if let Some(skill) = model.error.skill() {
                self.skill.record(skill, &labels);
            }
        }
    }

    pub fn incident(&self, event: &IncidentEvent) {
        let (kind, what) = match event {
            IncidentEvent::Recovered(recovered) => (recovered.kind, "recovered"),
            other => match other.opened() {
                Some(opened) => (opened.kind, "opened"),
                None => return,
            },
        };
        let kind = serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        self.incidents.add(
            1,
            &[KeyValue::new("kind", kind), KeyValue::new("event", what)],
        );
    }
}

fn labels(model: &ModelWindow) -> [KeyValue; 2] {
    [
        KeyValue::new("model", model.model.clone()),
        KeyValue::new("version", i64::from(model.version)),
    ]
}
