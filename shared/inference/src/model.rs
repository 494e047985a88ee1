//! A loaded model: an ONNX Runtime session configured for single-row latency.
//!
//! ort's `Session::run` takes `&mut self` (ONNX Runtime's `Run` is not reliably thread-safe), so
//! the session sits behind a `Mutex` and every method takes `&self`: a `Model` can be shared
//! (`Arc<Model>`) across tasks, and concurrent calls on one model queue. An uncontended lock is
//! tens of nanoseconds against microseconds for a run; for parallel throughput load one `Model`
//! per worker instead. The session runs on the calling thread (intra/inter-op threads 1): at
//! one row per call, handing work to a pool costs more than it saves.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ort::memory::Allocator;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{HasSelectedOutputs, OutputSelector, RunOptions, Session, SessionOutputs};
use ort::value::{Tensor, TensorRef};

use crate::error::InferenceError;
use crate::interface::{self, OUTPUT_NAME};
use crate::runtime::environment;

/// Zero rows run by [`Model::warm_up`] (first runs allocate and fault in pages).
const WARM_UP_RUNS: usize = 4;

/// A model ready to predict. See the module docs for the concurrency model.
pub struct Model {
    feature_count: usize,
    metadata: BTreeMap<String, String>,
    state: Mutex<State>,
}

/// Everything a run mutates. For the single-row path both tensors are allocated once at load:
/// `predict_one` copies the row into `row` and ONNX Runtime writes into the preallocated
/// `forecast` held by `one_row`, so the hot path creates no tensors of its own.
struct State {
    session: Session,
    row: Tensor<f32>,
    one_row: RunOptions<HasSelectedOutputs>,
}

impl Model {
    /// Loads an ONNX model from memory (starting ONNX Runtime if needed) and checks it takes
    /// `features` float32 `[N, F]` and returns `forecast` float32 `[N, 1]`.
    pub fn load(bytes: &[u8]) -> Result<Model, InferenceError> {
        let env = environment()?;
        let session = Session::builder(&env)
            .map_err(load_failed)?
            .with_intra_threads(1)
            .map_err(load_failed)?
            .with_inter_threads(1)
            .map_err(load_failed)?
            .with_parallel_execution(false)
            .map_err(load_failed)?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(load_failed)?
            .commit_from_memory(bytes)
            .map_err(load_failed)?;
        let feature_count = interface::check(session.inputs(), session.outputs())?;
        let metadata = read_metadata(&session).map_err(load_failed)?;
        let allocator = Allocator::default();
        let row = Tensor::<f32>::new(&allocator, [1_usize, feature_count]).map_err(load_failed)?;
        let forecast = Tensor::<f32>::new(&allocator, [1_usize, 1]).map_err(load_failed)?;
        let one_row = RunOptions::new()
            .map_err(load_failed)?
            .with_outputs(OutputSelector::default().preallocate(OUTPUT_NAME, forecast));
        Ok(Model {
            feature_count,
            metadata,
            state: Mutex::new(State {
                session,
                row,
                one_row,
            }),
        })
    }

    /// `F`, the length of one input row.
    pub fn feature_count(&self) -> usize {
        self.feature_count
    }

    /// The model's `metadata_props`, as ONNX Runtime read them.
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// Predicts `n_rows` rows given row-major in `rows` (`n_rows * F` values). The input is
    /// handed to ONNX Runtime without copying.
    pub fn predict(&self, rows: &[f32], n_rows: usize) -> Result<Vec<f32>, InferenceError> {
        let expected = n_rows.checked_mul(self.feature_count);
        if expected != Some(rows.len()) {
            return Err(self.wrong_shape(n_rows, rows.len()));
        }
        if n_rows == 0 {
            return Ok(Vec::new());
        }
        let input =
            TensorRef::from_array_view(([n_rows, self.feature_count], rows)).map_err(run_failed)?;
        let mut state = self.lock();
        let outputs = state.session.run(ort::inputs![input]).map_err(run_failed)?;
        let forecast = forecast_values(&outputs)?;
        if forecast.len() != n_rows {
            return Err(InferenceError::InferenceFailed(format!(
                "{} forecasts for {n_rows} rows",
                forecast.len()
            )));
        }
        Ok(forecast.to_vec())
    }

    /// Predicts one row (`F` values): the edge gateway's hot path. Copies the row into the
    /// preallocated input tensor and reads the preallocated output; no tensor is created.
    pub fn predict_one(&self, row: &[f32]) -> Result<f32, InferenceError> {
        if row.len() != self.feature_count {
            return Err(self.wrong_shape(1, row.len()));
        }
        let mut guard = self.lock();
        let State {
            session,
            row: input,
            one_row,
        } = &mut *guard;
        let (_, buffer) = input.extract_tensor_mut();
        match buffer.get_mut(..row.len()) {
            Some(target) => target.copy_from_slice(row),
            None => return Err(self.wrong_shape(1, row.len())),
        }
        let outputs = session
            .run_with_options(ort::inputs![&*input], one_row)
            .map_err(run_failed)?;
        forecast_values(&outputs)?
            .first()
            .copied()
            .ok_or_else(|| InferenceError::InferenceFailed("empty forecast".to_owned()))
    }

    /// Runs a few all-zero rows (single and batched) so the first real prediction does not pay
    /// for first-run allocations; returns how long that took.
    pub fn warm_up(&self) -> Result<Duration, InferenceError> {
        let start = Instant::now();
        let zeros = vec![0.0_f32; self.feature_count * WARM_UP_RUNS];
        for row in zeros.chunks_exact(self.feature_count) {
            self.predict_one(row)?;
        }
        self.predict(&zeros, WARM_UP_RUNS)?;
        Ok(start.elapsed())
    }

    /// A poisoned lock only means another caller panicked mid-run; the state stays valid
    /// because every run overwrites the whole input.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wrong_shape(&self, rows: usize, got: usize) -> InferenceError {
        InferenceError::WrongShape {
            expected: rows.saturating_mul(self.feature_count),
            rows,
            features: self.feature_count,
            got,
        }
    }
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("feature_count", &self.feature_count)
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

fn read_metadata(session: &Session) -> ort::Result<BTreeMap<String, String>> {
    let metadata = session.metadata()?;
    let keys = metadata.custom_keys()?;
    Ok(keys
        .into_iter()
        .filter_map(|key| metadata.custom(&key).map(|value| (key, value)))
        .collect())
}

fn forecast_values<'a>(outputs: &'a SessionOutputs<'_>) -> Result<&'a [f32], InferenceError> {
    let value = outputs
        .get(OUTPUT_NAME)
        .ok_or_else(|| InferenceError::InferenceFailed(format!("no {OUTPUT_NAME} output")))?;
    let (_, data) = value.try_extract_tensor::<f32>().map_err(run_failed)?;
    Ok(data)
}

fn load_failed<R>(e: ort::Error<R>) -> InferenceError {
    InferenceError::LoadFailed(e.to_string())
}

fn run_failed<R>(e: ort::Error<R>) -> InferenceError {
    InferenceError::InferenceFailed(e.to_string())
}
