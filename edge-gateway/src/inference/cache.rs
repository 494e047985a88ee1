//! The gateway's disk cache of verified models, so that a gateway restarted while its uplink is
//! down serves the model it served before instead of falling back to persistence.
//!
//! Layout under the cache directory:
//! - `artifacts/<sha256>.onnx`: artifact bytes, named by their own digest;
//! - `devices/<device>.json`: the device's current and previous desired state (signed
//!   manifests included).
//!
//! The cache is not trusted: everything read back is verified again against the trusted keys
//! before it is loaded, exactly like a fetched artifact. Files are written to a temporary name
//! and renamed, so a crash leaves the old file or the new one, never half of one.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use edgeops_contracts::DeviceId;
use edgeops_contracts::deployment::DesiredModel;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: {what}")]
    Invalid { path: PathBuf, what: String },
}

/// What one device served when the cache was last written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CachedDevice {
    pub current: Option<DesiredModel>,
    pub previous: Option<DesiredModel>,
}

#[derive(Debug, Clone)]
pub struct ModelCache {
    dir: PathBuf,
}

impl ModelCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores verified artifact bytes under their digest (`sha256` as the verifier computed it).
    pub fn store_artifact(&self, sha256: &str, bytes: &[u8]) -> Result<(), CacheError> {
        let path = self.artifact_path(sha256)?;
        if path.is_file() {
            return Ok(());
        }
        write_atomically(&path, bytes)
    }

    /// The bytes stored for `sha256` (unverified: the caller verifies them).
    pub fn read_artifact(&self, sha256: &str) -> Result<Vec<u8>, CacheError> {
        let path = self.artifact_path(sha256)?;
        fs::read(&path).map_err(|source| CacheError::Io { path, source })
    }

    pub fn save_device(&self, device: &DeviceId, cached: &CachedDevice) -> Result<(), CacheError> {
        let path = self.dir.join("devices").join(format!("{device}.json"));
        let bytes = serde_json::to_vec_pretty(cached).map_err(|source| CacheError::Json {
            path: path.clone(),
            source,
        })?;
        write_atomically(&path, &bytes)?;
        self.collect_garbage();
        Ok(())
    }

    /// Every cached device. A file that cannot be read is reported and skipped: one bad entry
    /// must not keep the other devices' models from serving.
    pub fn load_devices(&self) -> Vec<(DeviceId, CachedDevice)> {
        let dir = self.dir.join("devices");
        let Ok(entries) = fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut devices = Vec::new();
        for path in entries.flatten().map(|e| e.path()) {
            match read_device(&path) {
                Ok(Some(device)) => devices.push(device),
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "skipping an unreadable model cache entry")
                }
            }
        }
        devices.sort_by(|a, b| a.0.cmp(&b.0));
        devices
    }

    /// Removes artifacts no device refers to any more (best effort: a leftover file only costs
    /// disk, and is removed at the next write).
    fn collect_garbage(&self) {
        let referenced: Vec<String> = self
            .load_devices()
            .iter()
            .flat_map(|(_, d)| [&d.current, &d.previous])
            .flatten()
            .map(|d| d.signed.manifest.artifact.sha256.to_ascii_lowercase())
            .collect();
        let Ok(entries) = fs::read_dir(self.dir.join("artifacts")) else {
            return;
        };
        for path in entries.flatten().map(|e| e.path()) {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let is_artifact = path.extension().is_some_and(|e| e == "onnx");
            if is_artifact && !referenced.iter().any(|r| r == stem) {
                let _ = fs::remove_file(&path);
            }
        }
    }

    /// The file of an artifact. The digest becomes a file name, so it must be exactly 64 hex
    /// characters: a cache entry naming `../x` is refused, not followed.
    fn artifact_path(&self, sha256: &str) -> Result<PathBuf, CacheError> {
        let sha = sha256.to_ascii_lowercase();
        let path = self.dir.join("artifacts").join(format!("{sha}.onnx"));
        if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(CacheError::Invalid {
                path,
                what: format!("{sha256:?} is not a SHA-256 digest"),
            });
        }
        Ok(path)
    }
}

fn read_device(path: &Path) -> Result<Option<(DeviceId, CachedDevice)>, CacheError> {
    if path.extension().is_none_or(|e| e != "json") {
        return Ok(None);
    }
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let device = DeviceId::parse(stem).map_err(|e| CacheError::Invalid {
        path: path.to_owned(),
        what: e.to_string(),
    })?;
    let bytes = fs::read(path).map_err(|source| CacheError::Io {
        path: path.to_owned(),
        source,
    })?;
    let cached = serde_json::from_slice(&bytes).map_err(|source| CacheError::Json {
        path: path.to_owned(),
        source,
    })?;
    Ok(Some((device, cached)))
}

/// Writes `bytes` to `path` through a temporary file in the same directory, synced, then
/// renamed over the target.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let io = |source| CacheError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(dir).map_err(io)?;
    let tmp = path.with_extension("tmp");
    let mut file = fs::File::create(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests;
