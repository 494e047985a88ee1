//! The clock of every rollout: on each tick, each running or paused rollout's current wave is
//! judged by its gate, from the devices' acknowledgements, the time the wave has served and,
//! once those allow a verdict, the live errors of the new and the previous versions. A pass
//! switches the next wave (or completes), a fail rolls the switched devices back. The tick
//! also repairs desired state whose writes failed, checks every unfinished rollout's desired
//! state now and then (and at start, with the recent rollbacks), and prunes old forecasts.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use edgeops_contracts::Actor;
use edgeops_evaluation::Comparison;
use edgeops_eventsourcing::{ExecError, Expect, Provenance};
use edgeops_features::FeatureSpec;
use sqlx::PgPool;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::SERVICE_NAME;
use crate::config::DeploymentConfig;
use crate::domain::{Command, RolloutEvent, decide, evidence, needs_live_error};
use crate::effects::Effects;
use crate::live_error::{live_comparison, prune_forecasts};
use crate::projection::queries;
use crate::rollouts::{self, RolloutRecord, RolloutStore};

const PRUNE_EVERY: Duration = Duration::from_secs(600);

pub struct Evaluator {
    pub store: Arc<RolloutStore>,
    pub effects: Arc<Effects>,
    pub pool: PgPool,
    pub config: DeploymentConfig,
}

impl Evaluator {
    pub async fn run(self, shutdown: CancellationToken) {
        self.mark_for_repair(true).await;
        let mut tick = tokio::time::interval(self.config.tick());
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_reconcile = Instant::now();
        let mut last_prune: Option<Instant> = None;
        let mut seen = HashSet::new();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            if last_reconcile.elapsed() >= self.config.reconcile_every() {
                self.mark_for_repair(false).await;
                last_reconcile = Instant::now();
            }
            let active = self.active().await;
            // A rollout first seen by this process (at start, or once the projection shows
            // one started just before a crash) has its desired state checked at once.
            for id in &active {
                if seen.insert(*id) {
                    self.effects.mark_dirty(*id);
                }
            }
            self.repair().await;
            for id in active {
                if let Err(err) = self.evaluate(id).await {
                    tracing::warn!(rollout = %id, error = %err, "evaluating the rollout failed; next tick");
                }
            }
            if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                match prune_forecasts(&self.pool, self.config.forecast_retention_hours).await {
                    Ok(pruned) if pruned > 0 => tracing::info!(pruned, "old forecasts pruned"),
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = %err, "pruning forecasts failed"),
                }
                last_prune = Some(Instant::now());
            }
        }
        tracing::debug!("evaluator stopped");
    }

    /// Marks every unfinished rollout (and at start, those rolled back in the last day) for
    /// a check of its desired state on this tick.
    async fn mark_for_repair(&self, at_start: bool) {
        let mut ids = self.active().await;
        if at_start {
            let since = Utc::now() - chrono::Duration::days(1);
            match queries::rolled_back_since(&self.pool, since).await {
                Ok(rolled_back) => ids.extend(rolled_back),
                Err(err) => tracing::warn!(error = %err, "listing recent rollbacks failed"),
            }
        }
        for id in ids {
            self.effects.mark_dirty(id);
        }
    }

    /// Writes the intended desired state of every rollout marked for it.
    async fn repair(&self) {
        for id in self.effects.take_dirty() {
            let repaired = match self.store.load(&id.to_string()).await {
                Ok(loaded) => self
                    .effects
                    .reconcile(id, &loaded.state)
                    .await
                    .map_err(|e| e.to_string()),
                Err(err) => Err(err.to_string()),
            };
            match repaired {
                Ok(0) => {}
                Ok(writes) => tracing::info!(rollout = %id, writes, "desired state repaired"),
                Err(err) => {
                    tracing::warn!(rollout = %id, error = %err, "desired state not repaired; next tick");
                    self.effects.mark_dirty(id);
                }
            }
        }
    }

    /// Running and paused rollouts: the projection's, and those this process holds.
    async fn active(&self) -> Vec<Uuid> {
        let mut ids = match queries::active_ids(&self.pool).await {
            Ok(ids) => ids,
            Err(err) => {
                tracing::warn!(error = %err, "listing active rollouts failed");
                Vec::new()
            }
        };
        ids.extend(rollouts::cached_ids(&self.store));
        ids.sort();
        ids.dedup();
        ids
    }

    /// The feature spec `version` of `model` was trained on (its signed manifest names it): the
    /// bins its forecasts are judged on. `Err` when the registry cannot be asked (next tick);
    /// `Ok(Err)` when this build does not know the spec, or knows it at another version: then
    /// nothing can be judged faithfully.
    async fn spec_of(
        &self,
        model: &str,
        version: u32,
    ) -> Result<Result<FeatureSpec, String>, String> {
        let signed = self
            .effects
            .manifest(model, version)
            .await
            .map_err(|e| e.to_string())?;
        let named = &signed.manifest.feature_spec;
        Ok(FeatureSpec::by_name(&named.name)
            .filter(|spec| spec.version == named.version)
            .ok_or_else(|| {
                format!(
                    "{model} v{version} was trained on feature spec {} v{}, which this deployment does not know; its live error cannot be judged",
                    named.name, named.version
                )
            }))
    }

    #[tracing::instrument(name = "edgeops.deployment.evaluate", skip(self), fields(rollout = %id))]
    async fn evaluate(&self, id: Uuid) -> Result<(), String> {
        let loaded = self
            .store
            .load(&id.to_string())
            .await
            .map_err(|e| e.to_string())?;
        let (Some(started), Some(wave_start)) = (&loaded.state.started, loaded.wave_started_at())
        else {
            return Ok(());
        };
        if loaded.is_finished() {
            return Ok(());
        }
        let elapsed = u64::try_from((Utc::now() - wave_start).num_seconds()).unwrap_or(0);
        let wave = loaded.state.current_wave_devices();
        let mut measured = evidence(&loaded.state, elapsed, None);
        if needs_live_error(&started.gates, wave.len(), &measured) {
            let live = match self.spec_of(&started.model, started.version).await? {
                Ok(spec) => live_comparison(
                    &self.pool,
                    &spec,
                    &started.model,
                    started.version,
                    wave,
                    wave_start,
                )
                .await
                .map_err(|e| e.to_string())?,
                // Nothing can be judged: undecided, so the gate fails once it times out.
                Err(unknown) => {
                    tracing::warn!(rollout = %id, reason = %unknown, "live error not judged");
                    Comparison::default()
                }
            };
            measured = evidence(&loaded.state, elapsed, Some(live));
        }
        let measured_at = loaded.last_sequence;
        let actor = Actor::Service(SERVICE_NAME.into());
        let executed = self
            .store
            .execute(
                &id.to_string(),
                &Provenance::by(&actor).in_flow(id),
                Expect::Once,
                |now| {
                    // Evidence belongs to the state it was measured on.
                    if now.last_sequence != measured_at {
                        return Ok(vec![]);
                    }
                    decide(&now.state, Command::Evaluate(measured.clone()))
                },
            )
            .await;
        let (after, events) = match executed {
            Ok(done) => done,
            // Reports landed meanwhile: judged again on the next tick.
            Err(ExecError::MovedOn(_)) => return Ok(()),
            Err(err) => return Err(err.to_string()),
        };
        for event in &events {
            match event {
                RolloutEvent::GatePassed { wave, summary } => {
                    tracing::info!(rollout = %id, wave, %summary, "gate passed");
                }
                RolloutEvent::GateFailed { wave, reason } => {
                    tracing::warn!(rollout = %id, wave, %reason, "gate failed; rolling back");
                }
                RolloutEvent::Completed => tracing::info!(rollout = %id, "rollout completed"),
                _ => {}
            }
        }
        self.effects.after(id, &after.state, &events).await;
        Ok(())
    }
}
