//! The gateways' window summaries: checked (dead-lettered with a reason if bad or from an
//! unknown site), stored once per window, then judged. A judgement is made on every delivery,
//! new or not: it reads the stored sums (each window counted once) and the incident aggregate
//! opens or closes at most once, so a redelivery after a crash changes nothing.

use std::collections::HashSet;

use async_nats::jetstream::Message;
use async_nats::jetstream::kv;
use chrono::{Duration, Utc};
use edgeops_bus::{BatchHandler, Outcome, RefusedReading};
use edgeops_contracts::monitoring::{IncidentKind, WindowSummary};
use edgeops_contracts::{RejectCode, Rejection, SiteId, subjects};
use sqlx::PgPool;

use super::incidents::Incidents;
use super::references::References;
use crate::domain::concept::Step;
use crate::domain::judge::{self, Levels};
use crate::domain::summary::{read_pack, read_summary};
use crate::domain::{Observation, RetrainHint, Scope, Verdict};
use crate::metrics::Metrics;
use crate::store::{self, ErrorQuery};

pub struct SummariesHandler {
    pub pool: PgPool,
    pub sites: kv::Store,
    pub incidents: Incidents,
    pub references: References,
    pub levels: Levels,
    pub metrics: Metrics,
}

impl BatchHandler for SummariesHandler {
    async fn handle(&self, batch: &[Message]) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(batch.len());
        // Sites found registered in this batch: a batch is mostly one site's summaries.
        let mut registered = HashSet::new();
        for message in batch {
            outcomes.push(self.handle_one(message, &mut registered).await);
        }
        outcomes
    }
}

impl SummariesHandler {
    /// A site's pack (`edgeops.summaries.<site>`, as gateways send them) or one summary
    /// (`edgeops.summaries.<site>.<device>`).
    async fn handle_one(&self, message: &Message, registered: &mut HashSet<SiteId>) -> Outcome {
        let subject = message.subject.as_str();
        if subjects::parse_summary_pack_subject(subject).is_none() {
            return match read_summary(subject, &message.payload) {
                Ok(summary) => self.handle_summary(summary, registered).await,
                Err(rejection) => {
                    self.metrics.summary("rejected");
                    Outcome::Reject(rejection)
                }
            };
        }
        let items = match read_pack(subject, &message.payload) {
            Ok(items) => items,
            Err(rejection) => {
                self.metrics.summary("rejected");
                return Outcome::Reject(rejection);
            }
        };
        let mut refused = Vec::new();
        for (pack_index, (item, read)) in items.into_iter().enumerate() {
            let outcome = match read {
                Ok(summary) => self.handle_summary(summary, registered).await,
                Err(rejection) => {
                    self.metrics.summary("rejected");
                    Outcome::Reject(rejection)
                }
            };
            match outcome {
                Outcome::Ack => {}
                // Stored and judged ones are harmless to do again: the whole pack is retried.
                Outcome::Retry { reason } => return Outcome::Retry { reason },
                Outcome::Reject(rejection) => refused.push(RefusedReading {
                    pack_index,
                    payload: serde_json::to_vec(&item).unwrap_or_default(),
                    rejection,
                }),
                Outcome::RejectReadings(more) => refused.extend(more),
            }
        }
        if refused.is_empty() {
            Outcome::Ack
        } else {
            Outcome::RejectReadings(refused)
        }
    }

    async fn handle_summary(
        &self,
        summary: WindowSummary,
        registered: &mut HashSet<SiteId>,
    ) -> Outcome {
        match self.registered(&summary.site, registered).await {
            Ok(true) => {}
            Ok(false) => {
                self.metrics.summary("rejected");
                return Outcome::Reject(Rejection::new(
                    RejectCode::UnknownSite,
                    format!("site {} is not registered", summary.site),
                ));
            }
            Err(err) => {
                return Outcome::Retry {
                    reason: format!("reading the sites bucket: {err}"),
                };
            }
        }
        match store::store_summary(&self.pool, &summary).await {
            Ok(true) => {
                self.metrics.summary("stored");
                self.metrics.stored(&summary);
            }
            Ok(false) => self.metrics.summary("duplicate"),
            Err(err) => {
                return Outcome::Retry {
                    reason: format!("storing the summary: {err}"),
                };
            }
        }
        match self.judge(&summary).await {
            Ok(()) => Outcome::Ack,
            Err(err) => Outcome::Retry {
                reason: format!("judging the summary: {err:#}"),
            },
        }
    }

    /// Whether `site` is in the sites bucket (asked once per site and batch).
    async fn registered(
        &self,
        site: &SiteId,
        known: &mut HashSet<SiteId>,
    ) -> Result<bool, kv::EntryError> {
        if known.contains(site) {
            return Ok(true);
        }
        let found = self.sites.get(site.as_str()).await?.is_some();
        if found {
            known.insert(site.clone());
        }
        Ok(found)
    }

    async fn judge(&self, summary: &WindowSummary) -> anyhow::Result<()> {
        let at = summary.window_end();
        let window_hours = summary.window_secs / edgeops_contracts::monitoring::WINDOW_SECS;
        for model in &summary.models {
            let scope = Scope::DeviceModel {
                site: summary.site.clone(),
                device: summary.device.clone(),
                model: model.model.clone(),
                version: model.version,
            };
            // At least two windows, so a day-long window is judged with the one before.
            let span = store::trailing(at, self.levels.performance_windows.max(2 * window_hours));
            let sums = store::error_sums(
                &self.pool,
                &ErrorQuery {
                    model: &model.model,
                    version: model.version,
                    device: Some((summary.site.as_str(), summary.device.as_str())),
                    site: None,
                    from: span.0,
                    to: span.1,
                },
            )
            .await?;
            let skill = judge::performance(&sums, span, "persistence", &self.levels);
            let mut concept = store::concept_state(&self.pool, &scope.key()).await?;
            let step = concept.feed(summary.window_start, &model.error, model.horizon_bins);
            if step != Step::Skipped {
                store::save_concept_state(&self.pool, &scope.key(), &concept).await?;
            }
            let verdict = judge::with_concept_drift(skill, step, &concept, span);
            self.observe(IncidentKind::PerformanceDegraded, scope, at, verdict)
                .await?;
        }
        self.judge_drift(summary).await?;
        let device = Scope::Device {
            site: summary.site.clone(),
            device: summary.device.clone(),
        };
        let window = (summary.window_start, at);
        let stuck = judge::stuck(&summary.stuck_metrics, window, summary.readings);
        self.observe(IncidentKind::DataQuality, device, at, stuck)
            .await?;
        self.judge_silence(summary).await?;
        // A summary arrived: the site's link works.
        let now = Utc::now();
        let link = judge::site_link(now, now, &self.levels);
        let site = Scope::Site {
            site: summary.site.clone(),
        };
        self.observe(IncidentKind::SiteOffline, site, now, link)
            .await
    }

    /// The serving model's inputs at this device over the trailing day against its training
    /// reference (from the signed manifest).
    async fn judge_drift(&self, summary: &WindowSummary) -> anyhow::Result<()> {
        let Some(of) = &summary.features_of else {
            return Ok(());
        };
        let found = self
            .references
            .manifest(of, &summary.site, &summary.device)
            .await?;
        let Some(manifest) = found else {
            tracing::debug!(model = %of.model, version = of.version, "no manifest; inputs not judged");
            return Ok(());
        };
        if manifest.reference.is_empty() {
            return Ok(());
        }
        let at = summary.window_end();
        let window_hours = summary.window_secs / edgeops_contracts::monitoring::WINDOW_SECS;
        let span = store::trailing(at, self.levels.drift_windows.max(window_hours));
        let site = summary.site.as_str();
        let device = summary.device.as_str();
        let live = store::feature_windows(&self.pool, of, site, device, span).await?;
        let length = Duration::seconds(i64::from(summary.window_secs));
        let hour_before = (summary.window_start - length, summary.window_start);
        let before: Vec<_> = store::feature_windows(&self.pool, of, site, device, hour_before)
            .await?
            .into_values()
            .flatten()
            .collect();
        let reference = format!("{} v{} training rows", of.model, of.version);
        let (verdict, _) = judge::drift(
            &manifest.reference,
            &live,
            [&before, &summary.features],
            span,
            &reference,
            &self.levels.drift,
        );
        let scope = Scope::DeviceModel {
            site: summary.site.clone(),
            device: summary.device.clone(),
            model: of.model.clone(),
            version: of.version,
        };
        let retrain = RetrainHint {
            spec: manifest.feature_spec.name.clone(),
            horizon_bins: manifest.horizon_bins,
        };
        self.incidents
            .observe(Observation {
                kind: IncidentKind::DriftDetected,
                scope,
                at,
                verdict,
                cool_down: self.levels.cool_down,
                retrain: Some(retrain),
            })
            .await
            .map(drop)
    }

    /// Judges this device, and every device of the site that reported no window for a whole
    /// window the site did report (a device that stopped sending), on the site's own clock.
    /// The site's clocks are one read of one row per device (kept as summaries are stored),
    /// not an aggregate over every stored window per device.
    async fn judge_silence(&self, summary: &WindowSummary) -> anyhow::Result<()> {
        let clocks = store::device_clocks(&self.pool, summary.site.as_str()).await?;
        let Some(site_time) = clocks.iter().filter_map(|c| c.last_reading_at).max() else {
            return Ok(());
        };
        let Some(site_newest_window) = clocks.iter().map(|c| c.newest_window).max() else {
            return Ok(());
        };
        for clock in clocks {
            let length = Duration::seconds(i64::from(summary.window_secs));
            let behind = clock.newest_window + length < site_newest_window;
            if clock.device != summary.device.as_str() && !behind {
                continue;
            }
            let Some(last) = clock.last_reading_at else {
                continue;
            };
            let Ok(device) = edgeops_contracts::DeviceId::parse(clock.device) else {
                continue;
            };
            let scope = Scope::Device {
                site: summary.site.clone(),
                device,
            };
            let verdict = judge::silence(last, site_time, &self.levels);
            self.observe(IncidentKind::DeviceSilent, scope, site_time, verdict)
                .await?;
        }
        Ok(())
    }

    async fn observe(
        &self,
        kind: IncidentKind,
        scope: Scope,
        at: chrono::DateTime<Utc>,
        verdict: Verdict,
    ) -> anyhow::Result<()> {
        self.incidents
            .observe(Observation {
                kind,
                scope,
                at,
                verdict,
                cool_down: self.levels.cool_down,
                retrain: None,
            })
            .await
            .map(drop)
    }
}
