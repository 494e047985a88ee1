//! Rows in; a trained model, compared with production and stored, out. Every failure here is
//! the run's own (no rows, a fit that fails, storage refusing the model) and ends it `failed`.

use std::time::Instant;

use edgeops_contracts::training::{
    IncumbentResult, RunRequest, TrainingCompleted, TrainingRequested,
};
use edgeops_features::FeatureSpec;

use super::{Executor, events, registry};
use crate::domain::failure::RunFailure;
use crate::pipeline::{self, Trained};
use crate::{objects, store};

impl Executor {
    pub(super) async fn train(
        &self,
        requested: &TrainingRequested,
        started: Instant,
    ) -> Result<TrainingCompleted, RunFailure> {
        let request = requested.request.clone();
        let spec = FeatureSpec::by_name(&request.spec).ok_or_else(|| {
            RunFailure::new(
                "bad_spec",
                format!("unknown feature spec {:?}", request.spec),
            )
        })?;
        let devices = store::load_rows(&self.pool, &request.scope, &spec, request.from, request.to)
            .await
            .map_err(|e| RunFailure::new("storage", e.to_string()))?;
        if devices.is_empty() {
            return Err(RunFailure::new(
                "no_rows",
                format!(
                    "no {} v{} feature rows for scope {} in the requested range",
                    spec.name,
                    spec.version,
                    request.scope.key()
                ),
            ));
        }
        let run = requested.run;
        let config = self.train_config.clone();
        let (spec_for_fit, request_for_fit) = (spec.clone(), request.clone());
        let trained = tokio::task::spawn_blocking(move || {
            pipeline::train_and_export(run, &request_for_fit, &spec_for_fit, &devices, &config)
        })
        .await
        .map_err(|e| RunFailure::new("fit_failed", e.to_string()))??;
        let incumbent = self.score_incumbent(&request, &trained).await;
        let artifact = objects::store_model(&self.js, &request.model, run, &trained.onnx)
            .await
            .map_err(|e| RunFailure::new("storage", format!("storing the model: {e}")))?;
        Ok(events::completed(
            requested,
            &spec,
            trained,
            incumbent,
            artifact,
            started.elapsed(),
        ))
    }

    /// The scope's production model scored on this run's holdout, when the registry knows one.
    async fn score_incumbent(
        &self,
        request: &RunRequest,
        trained: &Trained,
    ) -> Option<IncumbentResult> {
        let prod = registry::prod_version(&self.client, request).await?;
        let onnx = objects::read_object(&self.js, &prod.artifact)
            .await
            .inspect_err(
                |e| tracing::info!(error = %e, "production model unreadable; no incumbent"),
            )
            .ok()?;
        match trained.score_other(&onnx) {
            Ok(holdout) => Some(IncumbentResult {
                model: prod.model,
                version: prod.version,
                holdout,
            }),
            Err(failure) => {
                tracing::warn!(%failure, version = prod.version, "production model not comparable");
                None
            }
        }
    }
}
