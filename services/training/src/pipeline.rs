//! The CPU-bound part of a run (the service calls it on a blocking thread): dataset, candidates,
//! the winner's ONNX graph, and the proof that ONNX Runtime computes what the Rust model does.

use edgeops_contracts::monitoring::FeatureReference;
use edgeops_contracts::training::{ExportCheck, RunRequest, Scores};
use edgeops_features::FeatureSpec;
use edgeops_inference::Model;
use edgeops_ml::{Dataset, DeviceRows, TrainConfig, TrainReport, TrainedModel, export};
use uuid::Uuid;

use crate::domain::failure::RunFailure;

/// The export check's bound: |onnx - rust| <= PARITY_TOLERANCE * (1 + |rust|) on every holdout
/// row. ONNX Runtime computes in f32 (about 7 significant digits); the Rust model in f64.
pub const PARITY_TOLERANCE: f64 = 1e-4;

pub struct Trained {
    pub dataset: Dataset,
    pub report: TrainReport,
    pub model: TrainedModel,
    pub onnx: Vec<u8>,
    pub export_check: ExportCheck,
    /// Each input's distribution in the training part (not the holdout), in input order.
    pub reference: Vec<FeatureReference>,
    holdout: Vec<usize>,
}

fn metadata(
    run: Uuid,
    request: &RunRequest,
    spec: &FeatureSpec,
    report: &TrainReport,
    dataset: &Dataset,
) -> Vec<(String, String)> {
    let winner = report.winner();
    let metrics = serde_json::json!({
        "candidate": winner.name,
        "holdout": winner.holdout,
        "persistence": report.persistence,
        "seasonal_naive": report.seasonal_naive,
        "skill_vs_persistence": winner.skill_vs_persistence,
    });
    [
        ("edgeops.model", request.model.clone()),
        ("edgeops.training_run", run.to_string()),
        ("edgeops.scope", request.scope.key()),
        (
            "edgeops.feature_spec",
            serde_json::to_string(spec).unwrap_or_default(),
        ),
        ("edgeops.feature_names", dataset.feature_names.join(",")),
        ("edgeops.horizon_bins", request.horizon_bins.to_string()),
        ("edgeops.metrics", metrics.to_string()),
        ("edgeops.dataset_sha256", dataset.content_sha256.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn holdout_matrix(dataset: &Dataset, rows: &[usize]) -> Vec<f32> {
    rows.iter()
        .flat_map(|i| dataset.row(*i).iter().map(|v| *v as f32))
        .collect()
}

/// Runs the exported graph in ONNX Runtime over the holdout and compares with the Rust model.
fn check_export(
    onnx: &[u8],
    model: &TrainedModel,
    dataset: &Dataset,
    holdout: &[usize],
) -> Result<ExportCheck, RunFailure> {
    let session = Model::load(onnx).map_err(|e| {
        RunFailure::new(
            "export_failed",
            format!("ONNX Runtime refused the model: {e}"),
        )
    })?;
    let onnx_predictions = session
        .predict(&holdout_matrix(dataset, holdout), holdout.len())
        .map_err(|e| RunFailure::new("export_failed", format!("ONNX Runtime failed: {e}")))?;
    let mut max_abs_diff: f64 = 0.0;
    for (i, onnx) in holdout.iter().zip(&onnx_predictions) {
        let rust = model.predict(dataset.row(*i));
        let diff = (f64::from(*onnx) - rust).abs();
        max_abs_diff = max_abs_diff.max(diff);
        if diff > PARITY_TOLERANCE * (1.0 + rust.abs()) {
            return Err(RunFailure::new(
                "export_mismatch",
                format!("ONNX forecast {onnx} differs from the model's {rust} by {diff}"),
            ));
        }
    }
    Ok(ExportCheck {
        rows: holdout.len(),
        max_abs_diff,
        tolerance: PARITY_TOLERANCE,
    })
}

pub fn train_and_export(
    run: Uuid,
    request: &RunRequest,
    spec: &FeatureSpec,
    devices: &[DeviceRows],
    config: &TrainConfig,
) -> Result<Trained, RunFailure> {
    let dataset = Dataset::build(spec, request.horizon_bins, devices)?;
    let (report, model) = edgeops_ml::train(&dataset, config)?;
    // The split `train` made: the same call on the same dataset.
    let split = dataset.split(
        config.holdout_share,
        config.min_train_rows,
        config.min_holdout_rows,
    )?;
    // A built dataset has a finite value of every input in its training part; were one
    // missing, the model ships without a reference (what older models have) rather than fail.
    let reference = edgeops_ml::training_reference(&dataset, &split.train).unwrap_or_default();
    let holdout = split.holdout;
    let graph = export::to_graph(
        &model,
        &dataset.feature_names,
        metadata(run, request, spec, &report, &dataset),
        format!(
            "{} forecast of {} {} bins ahead, scope {}",
            request.model,
            spec.target,
            request.horizon_bins,
            request.scope.key()
        ),
        1,
    );
    let onnx = edgeops_onnx::encode(&graph)
        .map_err(|e| RunFailure::new("export_failed", e.to_string()))?;
    let export_check = check_export(&onnx, &model, &dataset, &holdout)?;
    Ok(Trained {
        dataset,
        report,
        model,
        onnx,
        export_check,
        reference,
        holdout,
    })
}

impl Trained {
    /// Scores another model (the scope's production version) on this run's holdout.
    pub fn score_other(&self, onnx: &[u8]) -> Result<Scores, RunFailure> {
        let other =
            Model::load(onnx).map_err(|e| RunFailure::new("incumbent_unusable", e.to_string()))?;
        if other.feature_count() != self.dataset.cols() {
            return Err(RunFailure::new(
                "incumbent_unusable",
                format!(
                    "it takes {} features, this run's rows have {}",
                    other.feature_count(),
                    self.dataset.cols()
                ),
            ));
        }
        let predictions = other
            .predict(
                &holdout_matrix(&self.dataset, &self.holdout),
                self.holdout.len(),
            )
            .map_err(|e| RunFailure::new("incumbent_unusable", e.to_string()))?;
        let scale = self.report.persistence.mae / self.report.persistence.mase.max(1e-12);
        Scores::of(
            predictions
                .iter()
                .zip(&self.holdout)
                .map(|(p, i)| (f64::from(*p), self.dataset.y[*i])),
            scale,
        )
        .ok_or_else(|| RunFailure::new("incumbent_unusable", "empty holdout"))
    }
}
