//! Loading the ONNX Runtime shared library, once per process.
//!
//! ort is built with `load-dynamic`: nothing is linked or downloaded at build time, and the
//! library `infra/scripts/bootstrap.sh` installs is opened at run time. The environment lives in
//! a `Mutex<Option<_>>` rather than a `OnceLock` so that a failed attempt (bootstrap still
//! running) is not cached: a later call can succeed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use ort::environment::Environment;

use crate::error::InferenceError;

/// Environment variable naming the library explicitly (also what `.tools/env` exports).
pub const DYLIB_ENV_VAR: &str = "ORT_DYLIB_PATH";
/// Where bootstrap.sh installs the library, relative to the workspace root.
const BOOTSTRAP_RELATIVE_PATH: &str = ".tools/lib/libonnxruntime.so";

static RUNTIME: Mutex<Option<Environment>> = Mutex::new(None);

/// Loads ONNX Runtime if this process has not yet. Idempotent and cheap once done;
/// [`crate::Model::load`] calls it, so calling it first only moves the cost (and the error) to
/// start-up.
///
/// The library is `$ORT_DYLIB_PATH` when set, else the first `.tools/lib/libonnxruntime.so`
/// found walking up from the current directory, then from the executable's directory.
pub fn init_runtime() -> Result<(), InferenceError> {
    environment().map(|_| ())
}

/// The process's ONNX Runtime environment, created on first use.
pub(crate) fn environment() -> Result<Environment, InferenceError> {
    let mut slot = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(env) = slot.as_ref() {
        return Ok(env.clone());
    }
    let starts: Vec<PathBuf> = [
        std::env::current_dir().ok(),
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let path = locate_library(std::env::var_os(DYLIB_ENV_VAR), &starts)?;
    let init_error = |message: String| InferenceError::RuntimeInit {
        path: path.display().to_string(),
        message,
    };
    let env = ort::init_from(&path)
        .map_err(|e| init_error(e.to_string()))?
        .with_name("edgeops")
        .with_telemetry(false)
        .build()
        .map_err(|e| init_error(e.to_string()))?;
    *slot = Some(env.clone());
    Ok(env)
}

/// Picks the library file: the explicit setting if any (which must exist: a wrong setting is
/// an error, not a reason to guess), else the bootstrap location above one of `starts`.
pub(crate) fn locate_library(
    explicit: Option<OsString>,
    starts: &[PathBuf],
) -> Result<PathBuf, InferenceError> {
    if let Some(value) = explicit.filter(|v| !v.is_empty()) {
        let path = PathBuf::from(value);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(InferenceError::RuntimeMissing {
                detail: format!("{DYLIB_ENV_VAR}={} is not a file", path.display()),
            })
        };
    }
    starts
        .iter()
        .flat_map(|start| start.ancestors())
        .map(|dir| dir.join(BOOTSTRAP_RELATIVE_PATH))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| InferenceError::RuntimeMissing {
            detail: format!(
                "{DYLIB_ENV_VAR} is not set and no {BOOTSTRAP_RELATIVE_PATH} was found above {}",
                starts
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_explicit_path_is_an_error_naming_the_variable_and_the_bootstrap() {
        let err = locate_library(Some("/nonexistent/libonnxruntime.so".into()), &[]).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("ORT_DYLIB_PATH=/nonexistent/libonnxruntime.so"));
        assert!(message.contains("infra/scripts/bootstrap.sh"));
    }

    #[test]
    fn without_the_variable_the_bootstrap_location_is_searched_upwards() {
        let root = std::env::temp_dir().join(format!("edgeops-locate-{}", std::process::id()));
        let lib_dir = root.join(".tools/lib");
        let deep = root.join("services/gateway/src");
        std::fs::create_dir_all(&lib_dir).unwrap();
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(lib_dir.join("libonnxruntime.so"), b"").unwrap();
        let found = locate_library(None, &[deep]);
        let missing = locate_library(Some(OsString::new()), &[std::env::temp_dir()]);
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(found.unwrap(), lib_dir.join("libonnxruntime.so"));
        assert!(matches!(
            missing,
            Err(InferenceError::RuntimeMissing { .. })
        ));
    }
}
